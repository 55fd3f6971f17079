"""Tests of cohortbench.privacy."""
