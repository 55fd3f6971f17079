"""The one protocol every loaded bundle offers the sandbox, whatever its framework."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from cohortbench.bundles.plan import Plan
from cohortbench.errors import CohortbenchError


class FineTuneUnsupportedError(CohortbenchError):
    """The bundle can only predict (e.g. a bare ONNX graph): it gets a baseline run, no finetune."""

    code = "fine_tune_unsupported"


@runtime_checkable
class BundleModel(Protocol):
    """A model ready to predict and fine-tune.

    X keeps the workspace's feature columns (names and order); y holds class indices 0..k-1 in
    the workspace's class order, and predict_proba's columns follow that order too.
    """

    @property
    def n_parameters(self) -> int | None:
        """Trainable parameters (tree nodes for boosted trees), or None when unknown."""
        ...

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Class probabilities, shape (n_rows, n_classes)."""
        ...

    def fine_tune(
        self, X: pd.DataFrame, y: np.ndarray, plan: Plan, *, classes: Sequence[str], device: str = "cpu"
    ) -> list[float]:
        """Train further on (X, y) following `plan`; return one training loss per epoch/round."""
        ...

    def save(self, path: Path) -> None:
        """Write the weights, in the framework's safe format, into the folder `path`."""
        ...
