"""A workspace's rules, cohort notes and EDA cache never touch each other: each has one typed reader
and one writer (service/workspaces/rules.py, service/workspaces/notes.py), the rules in their columns
and the `rules` JSON, the notes and the cache in `settings`."""

from __future__ import annotations

from datetime import date

import pytest

from cohortbench.errors import ConflictError
from cohortbench.service.workspaces.notes import (
    CohortNotes,
    eda_cache_of,
    notes_of,
    write_eda_cache,
    write_notes,
)
from cohortbench.service.workspaces.rules import apply_rules, rules_of, stored_rules
from cohortbench.store.models import Workspace
from cohortbench.workspaces import Rules


def _workspace() -> Workspace:
    workspace = Workspace(name="w")
    apply_rules(workspace, Rules(quota=3, ladder=True, dp_epsilon=1.0, end_date=date(2030, 1, 2)))
    write_notes(workspace, CohortNotes(categories={"site": ("a", "b")}, dropped_unlabelled=4))
    write_eda_cache(workspace, {"sha:dp": "artifact"})
    return workspace


def test_each_part_reads_back_what_was_written() -> None:
    workspace = _workspace()
    rules = rules_of(workspace)
    assert (rules.quota, rules.ladder, rules.dp_epsilon, rules.end_date) == (3, True, 1.0, date(2030, 1, 2))
    assert notes_of(workspace) == CohortNotes(categories={"site": ("a", "b")}, dropped_unlabelled=4)
    assert eda_cache_of(workspace) == {"sha:dp": "artifact"}


def test_a_rule_change_keeps_the_notes_and_the_cache() -> None:
    workspace = _workspace()
    notes, cache = notes_of(workspace), eda_cache_of(workspace)
    apply_rules(workspace, Rules(quota=9))
    assert rules_of(workspace).quota == 9 and not rules_of(workspace).ladder
    assert notes_of(workspace) == notes and eda_cache_of(workspace) == cache


def test_notes_and_cache_are_no_rules() -> None:
    workspace = _workspace()
    write_notes(workspace, CohortNotes(class_labels={"3": "severe"}))
    write_eda_cache(workspace, {})
    assert set(stored_rules(workspace)) <= set(Rules.model_fields)
    assert not set(workspace.settings) & set(Rules.model_fields)  # no rule among the notes and cache
    assert rules_of(workspace) == Rules(quota=3, ladder=True, dp_epsilon=1.0, end_date=date(2030, 1, 2))
    assert notes_of(workspace).class_labels == {"3": "severe"} and eda_cache_of(workspace) == {}


def test_a_bad_stored_rule_is_the_workspace_s_named_conflict() -> None:
    workspace = _workspace()
    workspace.rules = {**workspace.rules, "ladder": "yes"}
    with pytest.raises(ConflictError, match="ladder"):
        rules_of(workspace)
    assert notes_of(workspace).dropped_unlabelled == 4  # the notes still read
