"""The seeded, stratified train / holdout split of a cohort."""

from __future__ import annotations

import pandas as pd
from sklearn.model_selection import train_test_split

from cohortbench.cohorts.spec import CohortSpec
from cohortbench.errors import ValidationError


def split(
    frame: pd.DataFrame, spec: CohortSpec, *, seed: int = 0, holdout_size: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, holdout), stratified on the label so class proportions hold in both parts.

    `holdout_size` defaults to the spec's (320 for DILI, 128 for neuromuscular); rows keep
    their original order within each part, so the split depends only on the seed.
    """
    if spec.label_column not in frame.columns:
        raise ValidationError(f"frame has no label column {spec.label_column!r}")
    size = spec.holdout_size if holdout_size is None else holdout_size
    if not 0 < size < len(frame):
        raise ValidationError(f"holdout_size must be between 1 and {len(frame) - 1}, got {size}")
    train_idx, holdout_idx = train_test_split(
        frame.index.to_numpy(), test_size=size, random_state=seed, stratify=frame[spec.label_column]
    )
    return frame.loc[sorted(train_idx)], frame.loc[sorted(holdout_idx)]
