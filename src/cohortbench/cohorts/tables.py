"""A DILI cohort as hospitals hand it over: lab values missing at random and two categorical columns.

`with_gaps` turns a generated DILI frame into that table: a `fraction` of the liver-panel values
are knocked out (NaN), `diabetes` becomes "yes"/"no" text, and a `centre` column says which of
three recruiting centres saw the patient. The centre carries no signal; diabetes keeps its own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cohortbench.cohorts.spec import LIVER_PANEL
from cohortbench.errors import ValidationError

CENTRES = ("centre-a", "centre-b", "centre-c")
CENTRE_SHARES = (0.5, 0.3, 0.2)
CATEGORICAL = ("centre", "diabetes")
"""The columns `with_gaps` makes categorical (what an owner passes as `--categorical`)."""


def with_gaps(frame: pd.DataFrame, *, fraction: float = 0.1, seed: int = 0) -> pd.DataFrame:
    """A copy of a DILI frame with `fraction` of each liver-panel column missing, text diabetes and a centre."""
    if not 0 <= fraction < 1:
        raise ValidationError(f"fraction must be in [0, 1), got {fraction}")
    missing = [c for c in (*LIVER_PANEL, "diabetes") if c not in frame.columns]
    if missing:
        raise ValidationError(f"not a DILI frame: lacks {', '.join(missing[:5])}")
    rng = np.random.default_rng([seed, 19])
    out = frame.copy()
    for column in LIVER_PANEL:
        out.loc[rng.random(len(out)) < fraction, column] = np.nan
    out["diabetes"] = np.where(out["diabetes"].to_numpy() > 0.5, "yes", "no")
    out["centre"] = rng.choice(np.array(CENTRES), size=len(out), p=CENTRE_SHARES)
    return out
