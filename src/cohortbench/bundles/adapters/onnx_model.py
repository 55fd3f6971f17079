"""ONNX bundles: an inference graph run by onnxruntime; baseline only unless a code entry adds fine-tuning."""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd

from cohortbench.bundles.adapters.common import as_matrix, check_n_features, single_file
from cohortbench.bundles.manifest import BundleError
from cohortbench.bundles.plan import Plan
from cohortbench.bundles.protocol import FineTuneUnsupportedError


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return np.asarray(shifted / shifted.sum(axis=1, keepdims=True))


class OnnxModel:
    """One float input (n, n_features); the output named 'probabilities', else the first 2-D float output.

    Set model_args `softmax = true` when the graph returns logits.
    """

    flop_count: int | None = None

    def __init__(self, file: Path, args: Mapping[str, Any] | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        self.file = file
        self.session = ort.InferenceSession(str(file), options, providers=["CPUExecutionProvider"])
        self.softmax = bool((args or {}).get("softmax", False))
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise BundleError(f"weights/{file.name}: the graph must take one input, it takes {len(inputs)}")
        self.input = inputs[0]
        self.output = self._pick_output()
        self.n_parameters: int | None = _count_initializers(file)

    @classmethod
    def load(cls, path: Path, args: Mapping[str, Any] | None = None) -> Self:
        return cls(single_file(path, frozenset({".onnx"}), "onnx weights"), args)

    def _pick_output(self) -> str:
        outputs = self.session.get_outputs()
        named = [o.name for o in outputs if o.name == "probabilities"]
        tensors = [o.name for o in outputs if o.type == "tensor(float)" and len(o.shape or []) == 2]
        if not (named or tensors):
            raise BundleError(f"weights/{self.file.name}: no 2-D float output (export with zipmap disabled)")
        return str((named or tensors)[0])

    def features(self, X: pd.DataFrame) -> pd.DataFrame | np.ndarray:
        """The model's input table from the workspace's columns (identity unless overridden)."""
        return X

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        table = self.features(X)
        width = self.input.shape[1] if len(self.input.shape or []) == 2 else None
        if isinstance(width, int):
            check_n_features(width, table, "the onnx graph")
        (out,) = self.session.run([self.output], {self.input.name: as_matrix(table, np.float32)})
        proba = np.asarray(out, dtype=np.float64)
        return _softmax(proba) if self.softmax else proba

    def fine_tune(
        self, X: pd.DataFrame, y: np.ndarray, plan: Plan, *, classes: Sequence[str], device: str = "cpu"
    ) -> list[float]:
        raise FineTuneUnsupportedError(
            "an ONNX graph can only predict: it gets a baseline run; supply fine_tune in a code entry to fine-tune"
        )

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.file, path / "model.onnx")


def _count_initializers(file: Path) -> int | None:
    import onnx

    graph = onnx.load(str(file), load_external_data=False).graph
    total = sum(int(np.prod(t.dims)) for t in graph.initializer)
    return total or None
