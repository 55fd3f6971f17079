"""A softmax regression in plain numpy: the 'python' framework, implementing the bundle protocol itself.

Weights live in weights/model.safetensors. If weights/modules.json maps module names to gene
columns, the model works on module means (pathway scores) instead of the raw columns.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from safetensors.numpy import load_file, save_file


class Model:
    """Standardised inputs -> linear layer -> softmax; fine-tuned by minibatch gradient descent."""

    def __init__(self, arrays: dict[str, np.ndarray], modules: dict[str, list[str]] | None = None) -> None:
        self.arrays = {k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()}
        self.modules = modules

    @classmethod
    def load(cls, path: Path) -> Model:
        folder = path if path.is_dir() else path.parent
        modules_file = folder / "modules.json"
        modules = json.loads(modules_file.read_text()) if modules_file.exists() else None
        return cls(load_file(str(folder / "model.safetensors")), modules)

    @classmethod
    def fresh(cls, X: pd.DataFrame, n_classes: int, modules: dict[str, list[str]] | None = None) -> Model:
        """An untrained model whose standardisation is fitted on X (used by the build script)."""
        model = cls({}, modules)
        table = model.features(X)
        scale = table.std(axis=0)
        model.arrays = {
            "mean": table.mean(axis=0),
            "scale": np.where(scale > 0, scale, 1.0),
            "weight": np.zeros((table.shape[1], n_classes)),
            "bias": np.zeros(n_classes),
        }
        return model

    @property
    def n_parameters(self) -> int:
        return int(self.arrays["weight"].size + self.arrays["bias"].size)

    def features(self, X: pd.DataFrame) -> np.ndarray:
        if self.modules:
            X = pd.DataFrame({name: X[genes].mean(axis=1) for name, genes in self.modules.items()})
        return X.to_numpy(dtype=np.float64)

    def _standardised(self, X: pd.DataFrame) -> np.ndarray:
        return (self.features(X) - self.arrays["mean"]) / self.arrays["scale"]

    def _proba(self, Z: np.ndarray) -> np.ndarray:
        logits = Z @ self.arrays["weight"] + self.arrays["bias"]
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self._proba(self._standardised(X))

    def fine_tune(
        self, X: pd.DataFrame, y: np.ndarray, plan: Any, *, classes: Sequence[str], device: str = "cpu"
    ) -> list[float]:
        Z, y = self._standardised(X), np.asarray(y, dtype=np.int64)
        k = len(classes)
        counts = np.bincount(y, minlength=k)
        per_class = len(y) / (k * np.maximum(counts, 1)) if plan.class_weight == "balanced" else np.ones(k)
        rng = np.random.default_rng(plan.seed)
        losses = []
        for _ in range(plan.epochs):
            for batch in np.array_split(rng.permutation(len(y)), max(1, len(y) // plan.batch_size)):
                self._step(Z[batch], y[batch], per_class[y[batch]], plan)
            p = self._proba(Z)[np.arange(len(y)), y]
            losses.append(float(np.average(-np.log(np.clip(p, 1e-15, 1)), weights=per_class[y])))
        return losses

    def _step(self, Z: np.ndarray, y: np.ndarray, w: np.ndarray, plan: Any) -> None:
        grad = self._proba(Z)
        grad[np.arange(len(y)), y] -= 1.0
        grad *= (w / w.sum())[:, None]
        self.arrays["weight"] -= plan.learning_rate * (Z.T @ grad + plan.weight_decay * self.arrays["weight"])
        self.arrays["bias"] -= plan.learning_rate * grad.sum(axis=0)

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        save_file(
            {k: np.ascontiguousarray(v) for k, v in self.arrays.items()}, str(path / "model.safetensors")
        )
        if self.modules:
            (path / "modules.json").write_text(json.dumps(self.modules, indent=1))
