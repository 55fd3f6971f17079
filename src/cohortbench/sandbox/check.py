"""`cohortbench check`: both phases of a bundle, in the real sandbox, on a workspace's schema twin.

The data is fake (drawn from the twin: public schema and rounded class shares), so everything may be
shown, logs included, and no quota or budget is used. Same session as a real submission (both phases
in one sandboxed process, train data staged after the baseline): a bundle that passes here fails on
real data only for reasons of the data itself.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cohortbench.bundles import Manifest, unpack_bundle, validate_bundle
from cohortbench.errors import ValidationError
from cohortbench.privacy.twin import SchemaTwin
from cohortbench.sandbox.limits import Limits
from cohortbench.sandbox.runs import RunOutcome, RunRequest
from cohortbench.sandbox.session import SandboxSession

HOLDOUT_FRACTION = 0.2
CHECK_RECORDS = 1_000
"""Most fake records a check draws. The check tests a bundle's contract (columns, dtypes, classes,
both phases), which needs every class, not the cohort's size. A twin of the cohort's size made a
check of 20,000 genes x 5,000 patients take 16 minutes and 5.7x the cohort's memory; 1,000 rows of
20,000 float32 genes are 80 MB."""


@dataclass(frozen=True)
class CheckReport:
    """The validated manifest and the outcome of each phase on fake data."""

    manifest: Manifest
    n_train: int
    n_holdout: int
    baseline: RunOutcome
    finetune: RunOutcome

    @property
    def ok(self) -> bool:
        """Both phases succeeded on the twin."""
        return self.baseline.ok and self.finetune.ok

    def problems(self) -> list[str]:
        """`phase: code (ExceptionType): message` of each failed phase, in full (the data is fake)."""
        out = []
        for phase, o in (("baseline", self.baseline), ("finetune", self.finetune)):
            if o.ok:
                continue
            e = o.public_error
            text = f"{phase}: {e.code if e else o.status}"
            if e and e.exc_type:
                text += f" ({e.exc_type})"
            lines = (o.owner_log.message or o.owner_log.traceback).strip().splitlines()
            if lines:
                text += f": {lines[-1] if not o.owner_log.message else o.owner_log.message.strip()}"
            out.append(text)
        return out


def twin_data(
    twin: SchemaTwin, *, seed: int = 0, records: int = CHECK_RECORDS
) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """(train features, train class indices, holdout features): min(cohort size, `records`) fake
    records drawn from the twin, a fifth of them held out."""
    frame = twin.synthesize(min(twin.n_records, records), seed=seed)
    labels = frame[twin.label_column].astype(str).map({c: i for i, c in enumerate(twin.classes)})
    if labels.isna().any():
        raise ValidationError("the schema twin drew a label outside its classes")
    features = frame[[c.name for c in twin.columns]]
    order = np.random.default_rng(seed).permutation(len(frame))
    n_holdout = max(1, int(len(frame) * HOLDOUT_FRACTION))
    hold, train = order[:n_holdout], order[n_holdout:]
    return (
        features.iloc[train].reset_index(drop=True),
        labels.to_numpy(dtype=np.int64)[train],
        features.iloc[hold].reset_index(drop=True),
    )


def check_bundle(
    source: Path,
    twin: SchemaTwin,
    *,
    workdir: Path | None = None,
    limits: Limits | None = None,
    unsafe_no_sandbox: bool = False,
) -> CheckReport:
    """Unpack and validate `source`, then run baseline and finetune in one sandbox session on twin data."""
    with tempfile.TemporaryDirectory(prefix="cohortbench-check-") as tmp:
        root = workdir or Path(tmp)
        bundle = unpack_bundle(source, root / "bundle")
        manifest = validate_bundle(bundle)
        train_x, train_y, holdout = twin_data(twin)
        base = RunRequest(
            "baseline", bundle, twin.classes, holdout, plan=manifest.plan, limits=limits or Limits()
        )
        fine = RunRequest(
            "finetune", bundle, twin.classes, holdout, manifest.plan, train_x, train_y, limits=base.limits
        )
        with SandboxSession(bundle, root / "sandbox", unsafe_no_sandbox=unsafe_no_sandbox) as box:
            baseline = box.run(base)
            finetune = box.run(fine, last=True)
        return CheckReport(manifest, len(train_x), len(holdout), baseline, finetune)
