"""Launcher behaviour around the battery: inputs, budget, fail-closed, unsafe mode, public errors."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cohortbench.errors import ValidationError
from cohortbench.sandbox import (
    CPU_PEAK_FLOP_PER_CORE_S,
    RunRequest,
    SandboxUnavailableError,
    bwrap,
    launcher,
    permutation_specs,
    run_in_sandbox,
)
from cohortbench.sandbox.error_json import split_error
from tests.sandbox.conftest import CLASSES, TEST_LIMITS, Runner, write_bundle


def test_holdout_labels_never_enter_the_input(tmp_path: Path, holdout: pd.DataFrame) -> None:
    cohort = holdout.assign(secret_label_column=["label-value-zz"] * len(holdout))
    features = cohort.drop(columns="secret_label_column")
    request = RunRequest(
        phase="baseline",
        bundle_dir=write_bundle(tmp_path / "b"),
        classes=CLASSES,
        holdout_features=features,
        limits=TEST_LIMITS,
    )
    outcome = run_in_sandbox(request, tmp_path / "w")
    assert outcome.ok
    files = [p for p in (tmp_path / "w" / "input").rglob("*") if p.is_file()]
    assert {p.name for p in files} == {"job.json", "holdout.parquet"}
    for path in files:
        data = path.read_bytes()
        assert b"secret_label_column" not in data and b"label-value-zz" not in data


def test_finetune_returns_predictions_permutations_losses_weights(run_body: Runner) -> None:
    specs = tuple(permutation_specs({"g": ["x1", "x2"]}, repeats=2))
    outcome = run_body("", phase="finetune", permutations=specs)
    assert outcome.ok and outcome.predictions is not None
    assert outcome.predictions.shape == (12, 3)
    assert [spec for spec, _ in outcome.permuted] == list(specs)
    assert outcome.losses == (0.9, 0.5, 0.25)
    assert outcome.resources.cpu_seconds > 0 and outcome.resources.peak_memory_bytes > 10 * 1024**2
    assert outcome.resources.flop_method == "estimated"
    assert outcome.resources.flop == pytest.approx(outcome.resources.cpu_seconds * CPU_PEAK_FLOP_PER_CORE_S)


def test_permutation_specs_cover_groups_and_features_with_distinct_seeds() -> None:
    specs = permutation_specs({"g1": ["a", "b"], "g2": ["c"]}, repeats=2, seed=5)
    assert [(s.kind, s.name, s.repeat) for s in specs[:2]] == [("group", "g1", 0), ("group", "g1", 1)]
    assert {s.name for s in specs if s.kind == "feature"} == {"a", "b", "c"}
    assert len({s.seed for s in specs}) == len(specs) == 2 * (2 + 3)
    assert len(permutation_specs({"g": ["a"]}, per_feature=False)) == 3
    with pytest.raises(ValidationError):
        permutation_specs({"g": ["a"]}, repeats=0)


def test_an_exhausted_budget_is_refused_before_start(run_body: Runner, tmp_path: Path) -> None:
    outcome = run_body("", budget_flop=0.0)
    assert outcome.status == "budget_exceeded"
    assert not (tmp_path / "work0").exists()


def test_exceeding_the_budget_while_running_stops_the_run(run_body: Runner) -> None:
    outcome = run_body("while True:\n    pass", budget_flop=3 * CPU_PEAK_FLOP_PER_CORE_S)
    assert outcome.status == "budget_exceeded"
    assert outcome.resources.cpu_seconds == pytest.approx(3, abs=1.5)


def test_missing_bubblewrap_fails_closed(
    tmp_path: Path, holdout: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bwrap.shutil, "which", lambda name: None)
    launcher.check_sandbox.cache_clear()
    request = RunRequest("baseline", write_bundle(tmp_path / "b"), CLASSES, holdout, limits=TEST_LIMITS)
    with pytest.raises(SandboxUnavailableError, match="apt-get install bubblewrap"):
        run_in_sandbox(request, tmp_path / "w")
    assert not (tmp_path / "w").exists()
    launcher.check_sandbox.cache_clear()


def test_unsafe_mode_runs_and_warns_loudly(
    tmp_path: Path, holdout: pd.DataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    request = RunRequest("baseline", write_bundle(tmp_path / "b"), CLASSES, holdout, limits=TEST_LIMITS)
    with caplog.at_level(logging.WARNING):
        outcome = run_in_sandbox(request, tmp_path / "w", unsafe_no_sandbox=True)
    assert outcome.ok
    assert any("UNSAFE" in r.message and r.levelno == logging.WARNING for r in caplog.records)


def test_inconsistent_requests_are_refused(tmp_path: Path, holdout: pd.DataFrame) -> None:
    bundle = write_bundle(tmp_path / "b")
    finetune_without_train = RunRequest("finetune", bundle, CLASSES, holdout, limits=TEST_LIMITS)
    with pytest.raises(ValidationError, match="train_features"):
        run_in_sandbox(finetune_without_train, tmp_path / "w1")
    baseline_with_labels = replace(finetune_without_train, phase="baseline", train_labels=np.zeros(12, int))
    with pytest.raises(ValidationError, match="holdout features only"):
        run_in_sandbox(baseline_with_labels, tmp_path / "w2")


def test_forged_error_documents_are_sanitized(tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path / "b", "raise ValueError('x')")
    raw = {
        "code": "patient_42_alt_57",
        "exc_type": ["Leak_57", "ValueError"],
        "frames": [
            {"file": "model.py", "line": 14, "function": "predict_proba"},
            {"file": "model.py", "line": 99999, "function": "predict_proba"},
            {"file": "../etc/passwd.py", "line": 1, "function": "x"},
            {"file": "model.py", "line": 3, "function": "value_57"},
        ],
        "message": "ALT=57",
    }
    public, owner = split_error(raw, bundle)
    assert public.code == "crashed" and public.exc_type == "ValueError"
    assert [(f.file, f.line, f.function) for f in public.frames] == [("model.py", 14, "predict_proba")]
    assert owner.message == "ALT=57"
