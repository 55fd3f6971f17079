"""What a workspace keeps beside its rules: notes on its cohort and the EDA release cache.

The workspaces table holds them in its `settings` JSON; the rules are elsewhere (their columns and
the `rules` JSON, service/workspaces/rules.py). Each part is read and written here only, typed and
apart, so caching an EDA release never touches a note and a new note never drops the cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cohortbench.store.models import Workspace

#: the keys of `settings` that hold the cohort's notes (CohortNotes' fields)
NOTE_KEYS = ("categories", "dropped_unlabelled", "class_labels")
#: the key of `settings` that holds the EDA cache
EDA_CACHE = "eda_cache"


@dataclass(frozen=True)
class CohortNotes:
    """Owner-side facts about a workspace's cohort, kept from its creation (never a rule)."""

    #: the fixed levels of each categorical column (empty for an all-numeric cohort)
    categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: records dropped at creation for a missing label (`missing_labels="drop"`)
    dropped_unlabelled: int = 0
    #: the owner's display names of the classes ("3" -> "severe"), shown on pages
    class_labels: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "categories": {k: list(v) for k, v in self.categories.items()},
            "dropped_unlabelled": self.dropped_unlabelled,
            "class_labels": dict(self.class_labels),
        }


def _settings(workspace: Workspace) -> dict[str, Any]:
    stored = workspace.settings
    return dict(stored) if isinstance(stored, dict) else {}


def notes_of(workspace: Workspace) -> CohortNotes:
    """The workspace's cohort notes, typed (absent keys take their defaults)."""
    stored = _settings(workspace)
    categories = stored.get("categories") or {}
    labels = stored.get("class_labels") or {}
    return CohortNotes(
        categories={str(k): tuple(str(v) for v in levels) for k, levels in categories.items()},
        dropped_unlabelled=int(stored.get("dropped_unlabelled") or 0),
        class_labels={str(k): str(v) for k, v in labels.items()},
    )


def write_notes(workspace: Workspace, notes: CohortNotes) -> None:
    """Keep `notes` as the workspace's cohort notes; the EDA cache stays as it is."""
    workspace.settings = {**_settings(workspace), **notes.to_dict()}


def eda_cache_of(workspace: Workspace) -> dict[str, str]:
    """The released EDA aggregates already stored: release key -> artifact sha256."""
    cache = _settings(workspace).get(EDA_CACHE) or {}
    return {str(k): str(v) for k, v in cache.items()}


def write_eda_cache(workspace: Workspace, cache: Mapping[str, str]) -> None:
    """Keep `cache` as the EDA cache (an empty one clears it); the notes stay as they are."""
    workspace.settings = {**_settings(workspace), EDA_CACHE: dict(cache)}
