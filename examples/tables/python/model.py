"""The numpy softmax regression (softmax.py, shipped beside this file) on a table with missing
values and categories: the bundle encodes them itself, as torch_table.py does.

Numbers keep their NaN through `encode` and are standardised with the NaN-aware mean and sd the
build fitted; a missing number then stands at the mean (0). Categories become one-hot columns over
fixed level lists (the workspace's public levels); any other level and a missing one are zeros.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from softmax import Model as Softmax

#: level lists of the categorical columns, as the workspace's schema twin lists them
LEVELS = {"diabetes": ["no", "yes"], "centre": ["centre-a", "centre-b", "centre-c"]}


def encode(X: pd.DataFrame) -> np.ndarray:
    """[numbers (NaN kept) | missing indicators | one-hot levels] as float64."""
    numeric = X[[c for c in X.columns if c not in LEVELS]].to_numpy(dtype=np.float64, na_value=np.nan)
    missing = np.isnan(numeric).astype(np.float64)
    onehot = [
        pd.get_dummies(
            pd.Categorical(X[c].astype(object).where(X[c].isin(levels)), categories=levels), dtype=float
        )
        for c, levels in LEVELS.items()
    ]
    return np.hstack([numeric, missing, *onehot])


class Model(Softmax):
    """Softmax regression on the encoded table."""

    @classmethod
    def fresh(cls, X: pd.DataFrame, n_classes: int, modules: dict[str, list[str]] | None = None) -> Model:
        model = cls({}, None)
        table = model.features(X)
        scale = np.nanstd(table, axis=0)
        model.arrays = {
            "mean": np.nanmean(table, axis=0),
            "scale": np.where(scale > 0, scale, 1.0),
            "weight": np.zeros((table.shape[1], n_classes)),
            "bias": np.zeros(n_classes),
        }
        return model

    def features(self, X: pd.DataFrame) -> np.ndarray:
        return encode(X)

    def _standardised(self, X: pd.DataFrame) -> np.ndarray:
        return np.nan_to_num(super()._standardised(X))
