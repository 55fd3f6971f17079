"""The example bundles: each validates on the trusted side, loads, and predicts on its workspace's schema."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cohortbench.bundles import FRAMEWORKS, FineTuneUnsupportedError, Plan, load_model, validate_bundle
from cohortbench.cohorts import generate, get_spec, split

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
WORKSPACES = ("dili", "neuromuscular")
BUNDLES = [(w, f) for w in WORKSPACES for f in FRAMEWORKS]


@pytest.fixture(scope="module")
def workspace_rows() -> dict[str, tuple[pd.DataFrame, np.ndarray]]:
    """40 rows of each workspace's own cohort (what the sandbox would hand a model)."""
    rows = {}
    for name in WORKSPACES:
        spec = get_spec(name)
        frame = generate(name, seed=0).head(40)
        labels = np.array([spec.classes.index(str(v)) for v in frame[spec.label_column]])
        rows[name] = (frame[list(spec.features)], labels)
    return rows


@pytest.mark.parametrize(("workspace", "framework"), BUNDLES, ids=lambda v: str(v))
def test_example_validates_loads_and_predicts(
    workspace: str, framework: str, workspace_rows: dict[str, tuple[pd.DataFrame, np.ndarray]]
) -> None:
    folder = EXAMPLES / workspace / framework
    manifest = validate_bundle(folder)
    assert manifest.framework == framework and 0 < manifest.claimed["macro_f1"] <= 1
    assert all(p.stat().st_size < 1_000_000 for p in (folder / "weights").iterdir())
    X, _ = workspace_rows[workspace]
    proba = load_model(folder, manifest).predict_proba(X)
    assert proba.shape == (len(X), len(get_spec(workspace).classes))
    assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)


def test_pathway_bundle_fine_tunes(workspace_rows: dict[str, tuple[pd.DataFrame, np.ndarray]]) -> None:
    folder = EXAMPLES / "neuromuscular" / "torch"
    model = load_model(folder, validate_bundle(folder))
    X, y = workspace_rows["neuromuscular"]
    losses = model.fine_tune(X, y, Plan(epochs=2), classes=get_spec("neuromuscular").classes)
    assert len(losses) == 2 and model.flop_count > 0  # type: ignore[attr-defined]


def test_runtime_doc_lists_every_package() -> None:
    from cohortbench.bundles import RUNTIME_PACKAGES

    doc = (EXAMPLES.parent / "docs" / "runtime.md").read_text()
    for name, version in RUNTIME_PACKAGES.items():
        assert f"| {name} | {version.split('+')[0]}" in doc, f"docs/runtime.md lacks {name} {version}"


@pytest.fixture(scope="module")
def workspace_train() -> dict[str, tuple[pd.DataFrame, np.ndarray]]:
    """Half of the train part of each workspace's seed-0 cohort under the workspace split (stratified)."""
    parts = {}
    for name in WORKSPACES:
        spec = get_spec(name)
        train, _ = split(generate(name, seed=0), spec, seed=0)
        train, _ = split(train, spec, seed=0, holdout_size=len(train) // 2)
        labels = np.array([spec.classes.index(str(v)) for v in train[spec.label_column]])
        parts[name] = (train[list(spec.features)], labels)
    return parts


@pytest.mark.parametrize(("workspace", "framework"), BUNDLES, ids=lambda v: str(v))
def test_example_fine_tune_does_not_raise_its_training_loss(
    workspace: str, framework: str, workspace_train: dict[str, tuple[pd.DataFrame, np.ndarray]]
) -> None:
    """Each example, fine-tuned on its workspace's cohort with its own plan (at most 10 rounds, on half the
    train split for speed): the last round's training loss is not above the first's. Continued boosting
    from the confident DILI LightGBM model used to take Newton steps of order 1/p on the rows it was
    wrong about, and its loss rose (issue 14)."""
    folder = EXAMPLES / workspace / framework
    manifest = validate_bundle(folder)
    model = load_model(folder, manifest)
    X, y = workspace_train[workspace]
    classes = get_spec(workspace).classes
    plan = replace(manifest.plan, epochs=min(manifest.plan.epochs, 10))
    if framework == "onnx":
        with pytest.raises(FineTuneUnsupportedError):
            model.fine_tune(X, y, plan, classes=classes)
        return
    losses = model.fine_tune(X, y, plan, classes=classes)
    assert losses and all(np.isfinite(losses))
    assert losses[-1] <= losses[0], f"training loss rose from {losses[0]:.3f} to {losses[-1]:.3f}: {losses}"
