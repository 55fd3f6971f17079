"""Tests of cohortbench.scoring."""
