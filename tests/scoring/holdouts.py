"""Generators for the scoring tests: random holdouts with ties, and a DILI-shaped holdout."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

CLASSES_4 = ("none", "mild", "moderate", "severe")
CLASSES_2 = ("benign", "severe")


@dataclass(frozen=True)
class Holdout:
    """Labels, probabilities and class names of one generated holdout."""

    y: np.ndarray
    proba: np.ndarray
    classes: tuple[str, ...]

    @property
    def k(self) -> int:
        return len(self.classes)


def proba_from_counts(counts: np.ndarray) -> np.ndarray:
    """Probabilities on a coarse grid (many exact ties), each row summing to 1."""
    counts = counts.astype(np.float64)
    counts[counts.sum(axis=1) == 0, 0] = 1.0
    return counts / counts.sum(axis=1, keepdims=True)


@st.composite
def holdouts(draw: st.DrawFn, min_n: int = 6, max_n: int = 60) -> Holdout:
    """Random holdout, k = 2 or 4, coarse probabilities so ties and never-predicted classes occur."""
    classes = draw(st.sampled_from([CLASSES_2, CLASSES_4]))
    k = len(classes)
    n = draw(st.integers(min_n, max_n))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.ones(k))
    y = rng.choice(k, size=n, p=weights)
    counts = rng.integers(0, draw(st.sampled_from([3, 10, 1000])), size=(n, k))
    counts[np.arange(n), y] += rng.integers(0, 3, size=n)
    return Holdout(y=y.astype(np.int64), proba=proba_from_counts(counts), classes=classes)


def dili_like(n: int = 320, seed: int = 0) -> Holdout:
    """A DILI-shaped holdout: 4 classes with the workspace's imbalance and an informative model."""
    rng = np.random.default_rng(seed)
    y = rng.choice(4, size=n, p=[0.903, 0.012, 0.038, 0.047])
    logits = rng.normal(size=(n, 4))
    logits[np.arange(n), y] += 2.0
    proba = np.exp(logits)
    return Holdout(y=y, proba=proba / proba.sum(axis=1, keepdims=True), classes=CLASSES_4)
