"""Workspaces on the write side and their owner-side reads: creation from a table, rules, cohort
notes, members, cohort versions, quota use and cards, one module each.

The rules have one typed accessor and one writer (rules.py); what the workspace keeps beside them,
its cohort notes and the EDA cache, has its own (notes.py).
"""

from cohortbench.service.access import get_workspace
from cohortbench.service.workspaces.cards import WorkspaceCard, card, cards_of_members, list_cards, reason
from cohortbench.service.workspaces.creation import create_workspace, store_version
from cohortbench.service.workspaces.membership import invite, members, team_of
from cohortbench.service.workspaces.notes import (
    CohortNotes,
    eda_cache_of,
    notes_of,
    write_eda_cache,
    write_notes,
)
from cohortbench.service.workspaces.quota import counts_against_quota, usage
from cohortbench.service.workspaces.rules import apply_rules, publish, rules_of, stored_rules, update_rules
from cohortbench.service.workspaces.versions import latest_version, load_cohort

__all__ = [
    "CohortNotes",
    "WorkspaceCard",
    "apply_rules",
    "card",
    "cards_of_members",
    "counts_against_quota",
    "create_workspace",
    "eda_cache_of",
    "get_workspace",
    "invite",
    "latest_version",
    "list_cards",
    "load_cohort",
    "members",
    "notes_of",
    "publish",
    "reason",
    "rules_of",
    "store_version",
    "stored_rules",
    "team_of",
    "update_rules",
    "usage",
    "write_eda_cache",
    "write_notes",
]
