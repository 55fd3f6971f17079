"""Fixtures for the sandbox tests: tiny `python`-framework bundles whose model.py runs a given body."""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cohortbench.sandbox import Limits, RunOutcome, RunRequest, run_in_sandbox

CLASSES = ("a", "b", "c")
#: distinctive record values: none of them may ever appear in what a contributor sees
SECRET_VALUES = (987654.321, 123456.789)

MODEL = """\
import os, sys, time
import numpy as np


class Model:
    n_parameters = 7

    @classmethod
    def load(cls, path):
        return cls()

    def predict_proba(self, X):
        n = len(X)
{body}
        return np.full((n, 3), 1 / 3)

    def fine_tune(self, X, y, plan):
        return [0.9, 0.5, 0.25]

    def save(self, path):
        (path / "weights.npy").write_bytes(b"ok")
"""

TEST_LIMITS = Limits(
    cpu_seconds=20,
    wall_seconds=15.0,
    memory_bytes=3 * 1024**3,
    max_processes=32,
    max_file_bytes=4 * 1024**2,
    tmp_bytes=8 * 1024**2,
    max_output_bytes=1024**2,
    max_log_bytes=64 * 1024,
    max_loss_points=100,
)


def write_bundle(root: Path, body: str = "") -> Path:
    """A python-framework bundle whose predict_proba first runs `body` (indented code)."""
    root.mkdir(parents=True)
    (root / "cohortbench.toml").write_text('name = "t"\nframework = "python"\nentry = "model:Model"\n')
    (root / "model.py").write_text(MODEL.format(body=textwrap.indent(textwrap.dedent(body), " " * 8)))
    return root


#: `{baseline}` runs in predict_proba before fine-tuning (the baseline phase: load is fresh, so a
#: finetune's model is always tuned); `{finetune}` in fine_tune, whose value is the one loss returned;
#: `{save}` in save, after the weights are written into the folder `path`.
PHASE_MODEL = """\
import os, sys, time, threading
import numpy as np

TRAIN = '/job/input/finetune/train.parquet'


def train_files():
    return [f for _, _, files in os.walk('/job') for f in files if 'train' in f]


class Model:
    tuned = False

    @classmethod
    def load(cls, path):
        return cls()

    def predict_proba(self, X):
        n = len(X)
        if not self.tuned:
{baseline}
        return np.full((n, 3), 1 / 3)

    def fine_tune(self, X, y, plan):
        self.tuned = True
{finetune}
        return [float(value)]

    def save(self, path):
        (path / 'weights.npy').write_bytes(b'ok')
{save}
"""


def _indent(code: str, spaces: int) -> str:
    return textwrap.indent(textwrap.dedent(code).strip("\n"), " " * spaces)


def write_phase_bundle(
    root: Path, *, baseline: str = "pass", finetune: str = "value = 1.0", save: str = "pass"
) -> Path:
    """A python-framework bundle that runs `baseline` in an untuned predict_proba, `finetune` in
    fine_tune and `save` in save."""
    root.mkdir(parents=True)
    (root / "cohortbench.toml").write_text('name = "s"\nframework = "python"\nentry = "model:Model"\n')
    text = PHASE_MODEL.format(
        baseline=_indent(baseline, 12), finetune=_indent(finetune, 8), save=_indent(save, 8)
    )
    (root / "model.py").write_text(text)
    return root


@pytest.fixture
def holdout() -> pd.DataFrame:
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(12, 3)), columns=["x1", "x2", "x3"])
    frame.iloc[0, 0], frame.iloc[1, 1] = SECRET_VALUES
    return frame


Runner = Callable[..., RunOutcome]


@pytest.fixture
def run_body(tmp_path: Path, holdout: pd.DataFrame) -> Runner:
    """run_body(body, phase="baseline", **request fields) -> RunOutcome, each in a fresh workdir."""
    counter = itertools.count()

    def run(body: str = "", phase: str = "baseline", **fields: object) -> RunOutcome:
        i = next(counter)
        bundle = write_bundle(tmp_path / f"bundle{i}", body)
        train = {"train_features": holdout, "train_labels": np.arange(12) % 3} if phase == "finetune" else {}
        args: dict[str, object] = {"limits": TEST_LIMITS, **train, **fields}
        request = RunRequest(
            phase=phase, bundle_dir=bundle, classes=CLASSES, holdout_features=holdout, **args
        )  # type: ignore[arg-type]
        return run_in_sandbox(request, tmp_path / f"work{i}")

    return run


def assert_nothing_leaks(outcome: RunOutcome) -> None:
    """The contributor-visible part holds no record value (invariant 1 and 4)."""
    visible = repr((outcome.status, outcome.public_error, outcome.losses))
    for value in SECRET_VALUES:
        assert str(value)[:6] not in visible
        assert str(int(value)) not in visible


#: a bundle whose finetune loss is 1.0 only if it runs in the same sandboxed process as a baseline
#: that saw no train data (the private /tmp lives as long as the process), and sees its own
SAME_SANDBOX = {
    "baseline": "if not train_files():\n    open('/tmp/mark', 'w').write('no train data seen')",
    "finetune": "value = float(os.path.exists('/tmp/mark') and os.path.exists(TRAIN))",
}
