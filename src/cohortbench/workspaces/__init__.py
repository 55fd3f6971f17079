"""Workspace rules, cohort validation and splits, compute and energy accounting (no web or database code)."""

from cohortbench.workspaces.cohort import CohortTable, frame_digest, split_holdout, validate_cohort
from cohortbench.workspaces.columns import apply_categories
from cohortbench.workspaces.energy import Energy, estimate_energy, to_pflop
from cohortbench.workspaces.groups import groups_by_prefix, groups_from_spec
from cohortbench.workspaces.rules import (
    Resources,
    Rules,
    RulesChange,
    check_can_submit,
    leaderboard_released,
)

__all__ = [
    "CohortTable",
    "Energy",
    "Resources",
    "Rules",
    "RulesChange",
    "apply_categories",
    "check_can_submit",
    "estimate_energy",
    "frame_digest",
    "groups_by_prefix",
    "groups_from_spec",
    "leaderboard_released",
    "split_holdout",
    "to_pflop",
    "validate_cohort",
]
