"""Sandbox benchmark: start overhead, and sandboxed vs. bare baseline+finetune of the xgboost DILI bundle.

1. Start overhead: a trivial `python` bundle (predicts a constant) run through run_in_sandbox with
   bubblewrap vs. the same launcher with unsafe_no_sandbox=True (same staging, interpreter, imports
   and output checks; only bwrap, seccomp and setpriv differ), median of N alternating runs.
2. examples/dili/xgboost on the DILI workspace cohort (1,280 train / 320 holdout), both phases with
   the 5 feature-group permutations x 3 repeats: wall time of one sandbox session serving both
   phases, as the worker runs them (staging, one interpreter, reading back, the finetune's inputs
   staged after the baseline's outputs are read), divided by the same load/fine-tune/predict done
   bare in one fresh Python process (imports paid once), and in this warm process (no imports).
   For comparison, the earlier way: two one-phase runs (two sandboxed interpreters).
   Median of N alternating repetitions.

Run: .venv/bin/python benchmarks/sandbox_bench.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from cohortbench import cohorts
from cohortbench.bundles import load_model, validate_bundle
from cohortbench.sandbox import RunRequest, SandboxSession, permutation_specs, run_in_sandbox
from cohortbench.sandbox.permuting import predict_permuted

ROOT = Path(__file__).resolve().parents[1]
XGB_BUNDLE = ROOT / "examples" / "dili" / "xgboost"
TRIVIAL_MODEL = """
import numpy as np

class Model:
    @classmethod
    def load(cls, path):
        return cls()

    def predict_proba(self, X):
        return np.full((len(X), 4), 0.25)

    def fine_tune(self, X, y, plan):
        return [1.0]

    def save(self, path):
        (path / "w.txt").write_text("w")
"""


def trivial_bundle(root: Path) -> Path:
    root.mkdir()
    (root / "cohortbench.toml").write_text('name = "trivial"\nframework = "python"\nentry = "model:Model"\n')
    (root / "model.py").write_text(TRIVIAL_MODEL)
    return root


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def start_overhead(tmp: Path, repeats: int) -> tuple[float, float]:
    """Median ms of one trivial baseline run: (sandboxed, bare)."""
    bundle = trivial_bundle(tmp / "trivial")
    holdout = pd.DataFrame(np.zeros((10, 3)), columns=["a", "b", "c"])
    request = RunRequest("baseline", bundle, ("0", "1", "2", "3"), holdout)
    boxed, bare = [], []
    for i in range(repeats):
        boxed.append(timed(lambda i=i: _ok(run_in_sandbox(request, tmp / f"s{i}"))))
        bare.append(timed(lambda i=i: _ok(run_in_sandbox(request, tmp / f"b{i}", unsafe_no_sandbox=True))))
    return statistics.median(boxed) * 1e3, statistics.median(bare) * 1e3


def _ok(outcome) -> None:  # type: ignore[no-untyped-def]
    assert outcome.ok, outcome.owner_log


def dili_requests() -> tuple[RunRequest, RunRequest]:
    spec = cohorts.get_spec("dili")
    train, holdout = cohorts.split(cohorts.generate("dili"), spec)
    features = list(spec.features)
    y = train[spec.label_column].astype(str).map({c: i for i, c in enumerate(spec.classes)}).to_numpy()
    manifest = validate_bundle(XGB_BUNDLE)
    perms = tuple(permutation_specs(spec.feature_groups, repeats=3, per_feature=False))
    common = {"plan": manifest.plan, "permutations": perms}
    base = RunRequest("baseline", XGB_BUNDLE, spec.classes, holdout[features], **common)  # type: ignore[arg-type]
    fine = RunRequest(
        "finetune",
        XGB_BUNDLE,
        spec.classes,
        holdout[features],
        train_features=train[features],
        train_labels=y,
        **common,
    )  # type: ignore[arg-type]
    return base, fine


def bare_phases(base: RunRequest, fine: RunRequest, out: Path) -> None:
    """What the two sandboxed runs compute, in this process: load, predict (+permuted), fine-tune, save."""
    manifest = validate_bundle(XGB_BUNDLE)
    for request in (base, fine):
        model = load_model(XGB_BUNDLE, manifest)
        if request.phase == "finetune":
            assert request.train_features is not None and request.train_labels is not None
            model.fine_tune(
                request.train_features, request.train_labels, request.plan, classes=request.classes
            )
            model.save(out / "weights")
        model.predict_proba(request.holdout_features)
        if request.permutations:  # batched as the entry does, so the comparison stays fair
            specs = [asdict(spec) for spec in request.permutations]
            predict_permuted(model.predict_proba, request.holdout_features, specs, len(request.classes))


def fresh_bare(out: Path) -> None:
    """bare_phases in a fresh interpreter: the same imports a sandboxed run pays, once."""
    code = (
        "import sys; sys.path.insert(0, 'benchmarks'); import sandbox_bench as b; from pathlib import Path; "
    )
    code += "b.bare_phases(*b.dili_requests(), Path(sys.argv[1]))"
    subprocess.run([sys.executable, "-c", code, str(out)], cwd=ROOT, check=True)


def one_session(base: RunRequest, fine: RunRequest, workdir: Path) -> None:
    """Both phases in one sandbox session, as the worker runs them (one process for both)."""
    with SandboxSession(XGB_BUNDLE, workdir) as box:
        _ok(box.run(base))
        _ok(box.run(fine, last=True))
    assert box.processes_started == 1


def xgboost_ratio(tmp: Path, repeats: int) -> dict[str, float]:
    """Median seconds of baseline+finetune: one session, two one-phase runs, bare fresh, bare warm."""
    base, fine = dili_requests()
    times: dict[str, list[float]] = {"session": [], "two_runs": [], "fresh": [], "warm": []}
    for i in range(repeats):
        times["session"].append(timed(lambda i=i: one_session(base, fine, tmp / f"session{i}")))
        times["two_runs"].append(
            timed(lambda i=i: [_ok(run_in_sandbox(r, tmp / f"x{i}{r.phase}")) for r in (base, fine)])
        )
        for name in (f"fresh{i}", f"warm{i}"):
            (tmp / name).mkdir()
        times["fresh"].append(timed(lambda i=i: fresh_bare(tmp / f"fresh{i}")))
        times["warm"].append(timed(lambda i=i: bare_phases(base, fine, tmp / f"warm{i}")))
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        boxed_ms, bare_ms = start_overhead(tmp, args.repeats)
        print(
            f"start: sandboxed {boxed_ms:.0f} ms, bare {bare_ms:.0f} ms, bwrap overhead {boxed_ms - bare_ms:.0f} ms"
        )
        t = xgboost_ratio(tmp, args.repeats)
        boxed_s = t["session"]
        print(f"xgboost DILI baseline+finetune: sandboxed, one session {boxed_s:.2f} s")
        print(f"  bare, fresh process (imports once): {t['fresh']:.2f} s, ratio {boxed_s / t['fresh']:.2f}x")
        print(f"  bare, warm process (no imports):    {t['warm']:.2f} s, ratio {boxed_s / t['warm']:.2f}x")
        print(
            f"  before: two one-phase sandboxed runs {t['two_runs']:.2f} s, ratio {t['two_runs'] / t['fresh']:.2f}x"
        )
    print(f"load average at the end: {Path('/proc/loadavg').read_text().strip()}")


if __name__ == "__main__":
    main()
