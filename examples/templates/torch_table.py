"""A torch bundle for a table with missing values and categories: the bundle encodes them itself.

The sandbox hands `features` the workspace's DataFrame: numeric columns may hold NaN, and the
categorical ones are pandas `category` columns. `encode` turns that into one float matrix:
the numeric values (NaN kept), one missing-indicator per numeric column, and a one-hot block per
categorical column over a fixed level list (the workspace's public levels, from its schema twin;
any other level, and a missing value, is all zeros). The module standardises the numbers and
puts a missing one at the mean (0 after standardising): `nan_to_num` after the scaling.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from cohortbench.bundles import TorchModel

#: level lists of the categorical columns, as the workspace's schema twin lists them
LEVELS = {"diabetes": ["no", "yes"], "centre": ["centre-a", "centre-b", "centre-c"]}


def encode(X: pd.DataFrame) -> np.ndarray:
    """[numbers (NaN kept) | missing indicators | one-hot levels] as float32."""
    numeric = X[[c for c in X.columns if c not in LEVELS]].to_numpy(dtype=np.float32, na_value=np.nan)
    missing = np.isnan(numeric).astype(np.float32)
    onehot = [
        pd.get_dummies(
            pd.Categorical(X[c].astype(object).where(X[c].isin(levels)), categories=levels), dtype=np.float32
        )
        for c, levels in LEVELS.items()
    ]
    return np.hstack([numeric, missing, *onehot])


class Net(nn.Module):
    """Standardise the numbers (missing -> mean), keep indicators and one-hots, then an MLP."""

    def __init__(self, n_numeric: int = 200, n_classes: int = 4, hidden: int = 32) -> None:
        super().__init__()
        n_levels = sum(len(v) for v in LEVELS.values())
        self.n_numeric = n_numeric
        self.register_buffer("mean", torch.zeros(n_numeric))
        self.register_buffer("scale", torch.ones(n_numeric))
        self.layers = nn.Sequential(
            nn.Linear(2 * n_numeric + n_levels, hidden), nn.ReLU(), nn.Linear(hidden, n_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        numbers = torch.nan_to_num((x[:, : self.n_numeric] - self.mean) / self.scale)
        return self.layers(torch.cat([numbers, x[:, self.n_numeric :]], dim=1))


class Model(TorchModel):
    """The zero-setup TorchModel with this table's encoding."""

    @classmethod
    def build_module(cls) -> nn.Module:
        return Net()

    def features(self, X: pd.DataFrame) -> np.ndarray:
        return encode(X)
