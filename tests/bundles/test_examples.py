"""The example bundles: each validates on the trusted side, loads, and predicts on its workspace's schema."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cohortbench.bundles import FRAMEWORKS, Plan, load_model, validate_bundle
from cohortbench.cohorts import generate, get_spec

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
