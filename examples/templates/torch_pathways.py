"""Pathway-aware network for neuromuscular progression: gene module means, clinical covariates and
signatures feed a small MLP. Subclasses cohortbench's TorchModel (the one cohortbench surface a
bundle may import) and overrides `features` (feature engineering on named columns) and `build_module`."""

from __future__ import annotations

import pandas as pd
import torch
from torch import nn

from cohortbench.bundles import TorchModel

GENE_BLOCK = 20
N_INPUTS = 10 + 29 + 21  # module means, clinical, signatures


def pathway_features(X: pd.DataFrame) -> pd.DataFrame:
    """Module means (blocks of 20 consecutive genes) first, then every non-gene column."""
    genes = sorted((c for c in X.columns if c.startswith("gene_")), key=lambda c: int(c.split("_")[1]))
    modules = {
        f"module_{k}": X[genes[k * GENE_BLOCK : (k + 1) * GENE_BLOCK]].mean(axis=1)
        for k in range(len(genes) // GENE_BLOCK)
    }
    others = X[[c for c in X.columns if not c.startswith("gene_")]]
    return pd.concat([pd.DataFrame(modules, index=X.index), others], axis=1)


class PathwayNet(nn.Module):
    def __init__(self, n_inputs: int = N_INPUTS, n_classes: int = 3, hidden: int = 24) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_inputs))
        self.register_buffer("scale", torch.ones(n_inputs))
        self.layers = nn.Sequential(nn.Linear(n_inputs, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers((x - self.mean) / self.scale)


class Model(TorchModel):
    @classmethod
    def build_module(cls) -> nn.Module:
        return PathwayNet()

    def features(self, X: pd.DataFrame) -> pd.DataFrame:
        return pathway_features(X)
