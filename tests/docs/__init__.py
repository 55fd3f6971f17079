"""Tests that execute the documentation's examples."""
