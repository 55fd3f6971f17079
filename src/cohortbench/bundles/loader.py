"""Inside the sandbox: turn a validated bundle into a BundleModel, importing its model.py if it has one."""

from __future__ import annotations

import importlib.util
import inspect
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cohortbench.bundles.manifest import BundleError, Manifest
from cohortbench.bundles.plan import Plan
from cohortbench.bundles.protocol import BundleModel

_PROTOCOL_METHODS = ("predict_proba", "fine_tune", "save")


def load_model(bundle_dir: Path, manifest: Manifest) -> BundleModel:
    """Load the bundle's model. Runs contributor code: call it only inside the sandbox.

    Zero-code bundles get their framework's adapter; a code entry is either a class with a
    `load(path)` classmethod and the protocol's methods (possibly an adapter subclass), or, for
    torch, a bare nn.Module built with the manifest's model_args.
    """
    weights = _weights_path(bundle_dir, manifest)
    if manifest.entry is None:
        return _zero_code(manifest, weights)
    entry = import_entry(bundle_dir, manifest.entry)
    if callable(getattr(entry, "load", None)) and all(hasattr(entry, m) for m in _PROTOCOL_METHODS):
        return EntryModel(entry.load(weights))
    if manifest.framework == "torch" and _is_module_class(entry):
        from cohortbench.bundles.adapters.torch_model import module_model

        return module_model(entry, dict(manifest.model_args), weights)
    raise BundleError(
        f"entry: {manifest.entry} must define load(path) and {', '.join(_PROTOCOL_METHODS)}"
        + (" or be a torch.nn.Module" if manifest.framework == "torch" else "")
    )


def _weights_path(bundle_dir: Path, manifest: Manifest) -> Path:
    folder = bundle_dir / "weights"
    return folder / manifest.weights[0] if len(manifest.weights) == 1 else folder


def _zero_code(manifest: Manifest, weights: Path) -> BundleModel:
    args = dict(manifest.model_args)
    if manifest.framework == "sklearn":
        from cohortbench.bundles.adapters.sklearn_model import SklearnModel

        return SklearnModel.load(weights)
    if manifest.framework == "xgboost":
        from cohortbench.bundles.adapters.xgboost_model import XGBoostModel

        return XGBoostModel.load(weights, args)
    if manifest.framework == "lightgbm":
        from cohortbench.bundles.adapters.lightgbm_model import LightGBMModel

        return LightGBMModel.load(weights, args)
    if manifest.framework == "onnx":
        from cohortbench.bundles.adapters.onnx_model import OnnxModel

        return OnnxModel.load(weights, args)
    raise BundleError(f"entry: framework {manifest.framework!r} needs an entry class")


def import_entry(bundle_dir: Path, entry: str) -> Any:
    """Import module:Class from the bundle's folder (its other modules importable beside it)."""
    module_name, class_name = entry.split(":")
    path = bundle_dir / f"{module_name}.py"
    if str(bundle_dir) not in sys.path:
        sys.path.insert(0, str(bundle_dir))
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise BundleError(f"entry: cannot import {path.name}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    entry_class = getattr(module, class_name, None)
    if not inspect.isclass(entry_class):
        raise BundleError(f"entry: {module_name}.py defines no class {class_name!r}")
    return entry_class


def _is_module_class(entry: Any) -> bool:
    import torch

    return issubclass(entry, torch.nn.Module)


class EntryModel:
    """A contributor's object seen through the protocol: optional attributes default to None,
    `classes`/`device` are passed only if its fine_tune accepts them, losses come back as floats."""

    def __init__(self, inner: Any) -> None:
        missing = [m for m in _PROTOCOL_METHODS if not callable(getattr(inner, m, None))]
        if missing:
            raise BundleError(f"entry: the loaded object lacks {', '.join(missing)}")
        self.inner = inner

    @property
    def n_parameters(self) -> int | None:
        return _optional_int(getattr(self.inner, "n_parameters", None))

    @property
    def flop_count(self) -> int | None:
        return _optional_int(getattr(self.inner, "flop_count", None))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.inner.predict_proba(X), dtype=np.float64)

    def fine_tune(
        self, X: pd.DataFrame, y: np.ndarray, plan: Plan, *, classes: Sequence[str], device: str = "cpu"
    ) -> list[float]:
        accepted = inspect.signature(self.inner.fine_tune).parameters
        kwargs = {k: v for k, v in {"classes": classes, "device": device}.items() if k in accepted}
        losses = self.inner.fine_tune(X, y, plan, **kwargs)
        return [float(v) for v in (losses or [])]

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.inner.save(path)


def _optional_int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | np.integer) and not isinstance(value, bool) else None
