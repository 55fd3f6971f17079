"""Writes a session's job folder: the bundle once, then each phase's inputs when its turn comes.

Holdout labels have no place here: RunRequest carries none, and nothing in this module takes them.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from cohortbench.errors import ValidationError
from cohortbench.sandbox.bwrap import Mounts
from cohortbench.sandbox.frames import write_frame
from cohortbench.sandbox.runs import RunRequest

JOB_FILE = "job.json"
HOLDOUT_FILE = "holdout.parquet"
TRAIN_FILE = "train.parquet"
TRAIN_LABELS_FILE = "train_labels.npy"


def check_request(request: RunRequest) -> None:
    """Refuse inconsistent requests before anything is written (phase vs. train data, columns, labels)."""
    if request.phase not in ("baseline", "finetune"):
        raise ValidationError(f"phase must be 'baseline' or 'finetune', got {request.phase!r}")
    has_train = request.train_features is not None and request.train_labels is not None
    if request.phase == "finetune" and not has_train:
        raise ValidationError("a finetune run needs train_features and train_labels")
    if request.phase == "baseline" and (
        request.train_features is not None or request.train_labels is not None
    ):
        raise ValidationError("a baseline run gets holdout features only, no training data")
    if request.train_features is not None and request.train_labels is not None:
        if list(request.train_features.columns) != list(request.holdout_features.columns):
            raise ValidationError("train and holdout features must have the same columns in the same order")
        if len(request.train_labels) != len(request.train_features):
            raise ValidationError("train_labels must have one label per train row")
    missing = {c for p in request.permutations for c in p.columns} - set(request.holdout_features.columns)
    if missing:
        raise ValidationError(f"permutations name unknown columns: {', '.join(sorted(missing))}")


def job_document(request: RunRequest) -> dict[str, Any]:
    """job.json: the run's parameters (no data)."""
    return {
        "phase": request.phase,
        "classes": list(request.classes),
        "plan": request.plan.to_dict(),
        "permutations": [asdict(p) for p in request.permutations],
        "device": request.device,
        "budget_flop": request.budget_flop,
        "max_loss_points": request.limits.max_loss_points,
    }


def prepare(bundle_dir: Path, workdir: Path) -> Mounts:
    """Create workdir/{input,bundle,output}, the folders bound into the sandbox; phases come later.

    The input and output roots belong to the launcher (0755): the run's uid can create nothing in
    them, only in the output folder of its own phase.
    """
    mounts = Mounts(workdir / "input", workdir / "bundle", workdir / "output")
    for path in (mounts.input_dir, mounts.output_dir):
        path.mkdir(parents=True, exist_ok=False)
        path.chmod(0o755)
    shutil.copytree(bundle_dir, mounts.bundle_dir, symlinks=True)
    _make_readable(mounts.bundle_dir)
    return mounts


def stage_bundle(bundle_dir: Path, roots: Mounts) -> None:
    """Copy the bundle into the (empty, live-bound) bundle folder of a warm sandbox, readable by all."""
    shutil.copytree(bundle_dir, roots.bundle_dir, symlinks=True, dirs_exist_ok=True)
    _make_readable(roots.bundle_dir)


def stage_phase(request: RunRequest, roots: Mounts, *, uid: int) -> Mounts:
    """Write one phase's inputs to input/PHASE, removing earlier phases' inputs; create output/PHASE.

    The roots are bound live into a running sandbox, so the caller stages a phase only once the
    previous phase's outputs are read back (invariant 3 by time: train data appears after the
    baseline's outcome is fixed). The output folder is owned by `uid`, the run's user. The request
    must have passed check_request.
    """
    for earlier in roots.input_dir.iterdir():
        shutil.rmtree(earlier)
    mounts = Mounts(roots.input_dir / request.phase, roots.bundle_dir, roots.output_dir / request.phase)
    mounts.input_dir.mkdir(mode=0o700)  # unreadable to the run until complete
    (mounts.input_dir / JOB_FILE).write_text(json.dumps(job_document(request)))
    write_frame(request.holdout_features, mounts.input_dir / HOLDOUT_FILE)
    if request.train_features is not None and request.train_labels is not None:
        write_frame(request.train_features, mounts.input_dir / TRAIN_FILE)
        np.save(mounts.input_dir / TRAIN_LABELS_FILE, np.asarray(request.train_labels, dtype=np.int64))
    _make_readable(mounts.input_dir)
    mounts.output_dir.mkdir(mode=0o700)
    if os.geteuid() == 0:
        os.chown(mounts.output_dir, uid, uid)
    return mounts


def _make_readable(root: Path) -> None:
    """Folders 0755, files 0644 (symlinks untouched): the run's uid reads, nobody writes."""
    root.chmod(0o755)
    for path in root.rglob("*"):
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)
