"""A small MLP for tabular data: standardisation is part of the module (buffers), so a bare
nn.Module entry is the whole bundle; model_args in cohortbench.toml give its sizes."""

from __future__ import annotations

import torch
from torch import nn


class Net(nn.Module):
    """(x - mean) / scale -> Linear -> ReLU -> Dropout -> Linear: logits."""

    def __init__(self, n_features: int = 201, n_classes: int = 4, hidden: int = 32) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(n_features))
        self.layers = nn.Sequential(
            nn.Linear(n_features, hidden), nn.ReLU(), nn.Dropout(0.1), nn.Linear(hidden, n_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers((x - self.mean) / self.scale)
