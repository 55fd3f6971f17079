"""Tests of the web pages, the evidence report and its CLI command."""
