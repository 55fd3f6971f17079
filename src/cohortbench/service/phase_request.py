"""What one sandboxed phase gets: its request built from the workspace's rules and cohort (features,
labels for a finetune, permutations for importance, device, budget, limits).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from cohortbench.bundles import Plan
from cohortbench.sandbox import Limits, RunRequest, permutation_specs
from cohortbench.service.platform import Platform
from cohortbench.service.workspaces.rules import rules_of
from cohortbench.store.models import Submission, Workspace
from cohortbench.workspaces import Resources

PHASES = ("baseline", "finetune")

#: Above this many features, permutation importance is per feature group only: one prediction of
#: the holdout per feature and repeat (20,000 for a transcriptome) would dwarf the run itself.
PER_FEATURE_IMPORTANCE_MAX = 1_000


def build_request(
    workspace: Workspace,
    submission: Submission,
    phase: str,
    bundle_dir: Path,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    remaining_flop: float,
    platform: Platform,
) -> RunRequest:
    features = [c for c in holdout.columns if c not in (workspace.id_column, workspace.label_column)]
    classes = tuple(workspace.classes)
    rules = rules_of(workspace)
    return RunRequest(
        phase="finetune" if phase == "finetune" else "baseline",
        bundle_dir=bundle_dir,
        classes=classes,
        plan=Plan.from_dict(submission.plan),
        holdout_features=holdout[features],
        train_features=train[features] if phase == "finetune" else None,
        train_labels=labels_of(train, workspace.label_column, classes) if phase == "finetune" else None,
        permutations=tuple(
            permutation_specs(
                workspace.feature_groups,
                repeats=platform.settings.importance_repeats,
                seed=submission.id,
                per_feature=len(features) <= PER_FEATURE_IMPORTANCE_MAX,
            )
        ),
        device=device_for(rules.resources.gpu),
        budget_flop=remaining_flop,
        limits=limits_for(rules.resources),
    )


def device_for(gpus: int) -> Literal["cpu", "cuda"]:
    """The GPU when the workspace grants one and this node has one; else the CPU (a job never fails for it)."""
    return "cuda" if gpus > 0 and Path("/dev/nvidia0").exists() else "cpu"


def labels_of(frame: pd.DataFrame, label_column: str, classes: tuple[str, ...]) -> np.ndarray:
    lookup = {c: i for i, c in enumerate(classes)}
    return np.array([lookup[str(v)] for v in frame[label_column]], dtype=np.int64)


def limits_for(resources: Resources) -> Limits:
    """Sandbox limits of one job from the workspace's resources."""
    return Limits(memory_bytes=int(resources.memory_gb * 1024**3))
