"""docs/runtime.md's examples are executed: the bundles they write pass `check` on a twin."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from cohortbench.privacy.twin import SchemaTwin
from cohortbench.sandbox.check import check_bundle
from cohortbench.workspaces import groups_by_prefix

from .runtime_examples import BUNDLES, blocks, breast_cancer_frame, run_examples


def test_the_worked_example_has_its_blocks() -> None:
    found = blocks()
    assert sum(lang == "python" for lang, _ in found) >= 6
    assert any(code.startswith("# file: wdbc-torch/cohortbench.toml") for _, code in found)


@pytest.mark.slow
def test_every_bundle_of_the_docs_passes_check_on_the_twin(tmp_path: Path) -> None:
    namespace = run_examples(tmp_path)
    assert namespace["classes"] == ["benign", "malignant"]
    frame = breast_cancer_frame()
    features = [c for c in frame.columns if c not in ("patient_id", "diagnosis")]
    assert list(namespace["X"].columns) == features  # the docs use the workspace's column names
    twin = SchemaTwin.from_frame(
        frame,
        id_column="patient_id",
        label_column="diagnosis",
        classes=["benign", "malignant"],
        feature_groups=groups_by_prefix(features),
    )
    twin = replace(
        twin, columns=tuple(sorted(twin.columns, key=lambda c: features.index(c.name)))
    )  # X's order
    for name in BUNDLES:
        report = check_bundle(tmp_path / name, twin)
        assert report.ok, (name, report.problems())
        assert report.baseline.predictions is not None and report.baseline.predictions.shape[1] == 2
        assert len(report.finetune.losses) >= 1, name
