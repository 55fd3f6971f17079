"""Throughput: submissions per minute with 1 and 2 `cohortbench worker` processes, per framework,
and a profile of where a submission's time goes.

1. For each example bundle of examples/dili/ (one per framework) and each worker count K: a fresh
   SQLite deployment with the DILI workspace (default settings: 2,000 bootstrap resamples,
   permutation importance of the 5 feature groups and the 201 features, 3 repeats each: 618
   permuted copies per phase, predicted in batches by the entry), N + K submissions queued, then K
   `cohortbench worker --warm 1` processes started. The first K submissions warm the workers up
   (imports, the pool learning the workspace's kind); the rate is taken over the last N:
   N / (last finish - K-th finish), from the submissions' finished_at.
2. One warm xgboost submission through `Worker.run_once` in this process under cProfile: the
   cumulative time of each step (the sandbox phases and, inside them, staging, waiting for the
   sandboxed process and reading back; scoring; storing; settling; the queue).

Run: .venv/bin/python benchmarks/throughput_bench.py [--submissions 4] [--workers 1 2]
     [--frameworks xgboost sklearn ...] [--no-profile]
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import os
import pstats
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

import cohortbench
from cohortbench.jobs.executors import LocalExecutor
from cohortbench.service.worker import make_worker
from cohortbench.store.models import Submission

sys.path.insert(0, str(Path(__file__).resolve().parent))
from warm_bench import dili_deployment, loadavg, settle, status, submit

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORKS = ("sklearn", "xgboost", "lightgbm", "torch", "onnx", "python")
#: (label, file suffix, function name) of the steps the profile reports, outermost first
STEPS = (
    ("whole job (Worker.run_once)", "jobs/worker.py", "run_once"),
    ("  read the cohort (load_cohort)", "service/workspaces/versions.py", "load_cohort"),
    ("  fetch the bundle (artifacts.get_dir)", "store/artifacts.py", "get_dir"),
    ("  sandbox phases (SandboxSession.run)", "sandbox/session.py", "run"),
    ("    take the warm sandbox, copy the bundle", "sandbox/session.py", "_take_warm"),
    ("    stage the phase's inputs (Parquet)", "sandbox/staging.py", "stage_phase"),
    ("    the sandboxed process runs the phase", "sandbox/process.py", "serve"),
    ("    read back and validate outputs", "sandbox/collect.py", "collect"),
    ("    copy the fine-tuned weights out", "sandbox/session.py", "keep_weights"),
    ("  scoring (bootstrap, calibration, importance)", "service/evaluation.py", "_score"),
    ("  store a run (artifacts, result, audit)", "service/evaluation.py", "_store_outcome"),
    ("  settle the submission (board, ladder)", "service/evaluation.py", "_finish"),
    ("  mark the job done (queue)", "jobs/worker.py", "_record"),
)


def finished_times(data_dir: Path, ids: list[int]) -> list[float] | None:
    """The submissions' finish times (epoch seconds, sorted), or None while one is not finished."""
    from cohortbench.service import Platform, Settings

    platform = Platform.open(Settings(data_dir=data_dir, embedded_worker=False))
    try:
        with platform.session() as session:
            rows = session.scalars(select(Submission).where(Submission.id.in_(ids))).all()
            if any(r.finished_at is None for r in rows) or len(rows) != len(ids):
                return None
            bad = [r.status for r in rows if r.status != "succeeded"]
            assert not bad, f"submissions did not succeed: {bad}"
            return sorted(r.finished_at.timestamp() for r in rows)  # type: ignore[union-attr]
    finally:
        platform.close()


def rate(tmp: Path, framework: str, workers: int, n: int) -> tuple[float, float]:
    """(submissions per minute over the last n, seconds per submission per worker)."""
    data = tmp / f"{framework}-{workers}"
    platform, user = dili_deployment(data)
    bundle = ROOT / "examples" / "dili" / framework
    ids = [submit(platform, user, bundle) for _ in range(n + workers)]
    platform.close()
    env = {**os.environ, "PYTHONPATH": str(Path(cohortbench.__file__).resolve().parents[1])}
    argv = [sys.executable, "-m", "cohortbench.cli", "worker", "--data-dir", str(data), "--warm", "1"]
    procs = [
        subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(workers)
    ]
    try:
        while (times := finished_times(data, ids)) is None:
            time.sleep(1)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)  # the worker closes its warm pool on the way out
        for proc in procs:
            proc.wait(timeout=60)
    span = times[-1] - times[workers - 1]
    return n / span * 60, span * workers / n


def profile(tmp: Path) -> list[tuple[str, float]]:
    """Cumulative seconds per step of one warm xgboost submission through the worker."""
    platform, user = dili_deployment(tmp / "profile")
    executor = LocalExecutor(1)
    assert executor.pool is not None
    worker = make_worker(platform, executor=executor)
    bundle = ROOT / "examples" / "dili" / "xgboost"
    try:
        first = submit(platform, user, bundle)
        assert worker.run_once() and status(platform, first) == "succeeded"
        sid = submit(platform, user, bundle)
        settle(executor.pool)
        profiler = cProfile.Profile()
        profiler.runcall(worker.run_once)
        assert status(platform, sid) == "succeeded"
    finally:
        executor.close()
        platform.close()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    rows = []
    for label, suffix, name in STEPS:
        total = sum(v[3] for (file, _line, fn), v in stats.items() if fn == name and file.endswith(suffix))
        rows.append((label, total))
    return rows


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=4)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--frameworks", nargs="+", default=list(FRAMEWORKS))
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()
    print(f"load average before: {loadavg()}")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        if not args.no_profile:
            rows = profile(tmp)
            whole = rows[0][1]
            print(f"profile of one warm xgboost submission (load average {loadavg()}):")
            for label, seconds in rows:
                print(f"  {label:<50} {seconds:6.2f} s {100 * seconds / whole:5.1f} %")
        print("| framework | workers | submissions / min | s per submission per worker | load average |")
        for framework in args.frameworks:
            for workers in args.workers:
                per_min, each = rate(tmp, framework, workers, args.submissions)
                print(f"| {framework} | {workers} | {per_min:.2f} | {each:.1f} | {loadavg()} |", flush=True)
    print(f"load average after: {loadavg()}")


if __name__ == "__main__":
    main()
