"""Warm sandboxes: the DILI xgboost bundle in a warm sandbox vs. a warm bare process, and a whole
submission through the worker vs. the same model work done bare.

1. Baseline + finetune (15 group permutations each) of examples/dili/xgboost in one sandbox
   session that took a warm sandbox of a WarmPool (started and done importing before the clock
   starts, as a worker's pool is between jobs), vs. the same load/predict/permute/fine-tune/save in
   this warm process (benchmarks/sandbox_bench.bare_phases). A cold session for reference.
2. A whole submission through the worker (`Worker.run_once` with a LocalExecutor of one warm
   sandbox: reading the cohort, fetching the bundle, both phases, scoring with bootstrap intervals
   and permutation importance, storing, settling), vs. the same bare model work as in 1 with the
   worker's permutations (every feature group and every feature, `importance_repeats` each).
   The deployment is a throwaway SQLite one with the DILI workspace (default settings).

Run: .venv/bin/python benchmarks/warm_bench.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from cohortbench import cohorts
from cohortbench.jobs.executors import LocalExecutor
from cohortbench.sandbox import SandboxSession, WarmPool, permutation_specs, proctree
from cohortbench.service import Platform, Settings, submissions, users, workspaces
from cohortbench.service.worker import make_worker
from cohortbench.store.models import Submission, User
from cohortbench.workspaces import Rules

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sandbox_bench import XGB_BUNDLE, _ok, bare_phases, dili_requests

ROOT = Path(__file__).resolve().parents[1]


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def settle(pool: WarmPool) -> None:
    """Wait until the pool's refills have started and every warm sandbox has done importing.

    A warm sandbox imports under SCHED_IDLE, on CPU nothing else wants: a worker's machine has
    such CPU between jobs, this shared one may not, so it imports at normal priority here.
    """
    pool.settled()
    for warm in list(pool._warm):
        proctree.set_policy(warm.running.process.proc.pid, os.SCHED_OTHER)
        assert warm.running.process.wait_ready(120), "a warm sandbox did not finish importing"


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def sandbox_part(tmp: Path, repeats: int) -> dict[str, float]:
    """Median seconds of baseline+finetune: warm session, cold session, warm bare process."""
    base, fine = dili_requests()
    times: dict[str, list[float]] = {"warm": [], "cold": [], "bare": []}
    with WarmPool(1, root=tmp / "pool") as pool:
        for i in range(repeats):
            pool.warm(base)
            settle(pool)

            def session(pool: WarmPool | None, name: str) -> None:
                with SandboxSession(XGB_BUNDLE, tmp / name, pool=pool) as box:
                    _ok(box.run(base))
                    _ok(box.run(fine, last=True))
                assert (box.warm is not None) == (pool is not None)

            times["warm"].append(timed(lambda i=i: session(pool, f"w{i}")))
            times["cold"].append(timed(lambda i=i: session(None, f"c{i}")))
            (tmp / f"bare{i}").mkdir()
            times["bare"].append(timed(lambda i=i: bare_phases(base, fine, tmp / f"bare{i}")))
    return {k: statistics.median(v) for k, v in times.items()}


def dili_deployment(data_dir: Path, quota: int = 10_000) -> tuple[Platform, User]:
    """A throwaway SQLite deployment with the DILI workspace (default settings) and one contributor."""
    platform = Platform.open(Settings(data_dir=data_dir, embedded_worker=False))
    spec = cohorts.get_spec("dili")
    with platform.session() as session:
        owner, _ = users.create_user(session, name="owner", is_admin=True)
        contributor, _ = users.create_user(session, name="bench")
        workspaces.create_workspace(
            platform,
            session,
            actor=owner,
            name="dili",
            title="DILI",
            frame=cohorts.generate("dili"),
            label_column=spec.label_column,
            id_column=spec.id_column,
            critical_class=spec.critical_class,
            classes=spec.classes,
            holdout_fraction=spec.holdout_size / spec.n_records,
            rules=Rules(quota=quota, budget_pflop=1e6),
            feature_groups={k: list(v) for k, v in spec.feature_groups.items()},
        )
        workspaces.invite(session, actor=owner, name="dili", user_name="bench")
        session.expunge(contributor)
    return platform, contributor


def submit(platform: Platform, user: User, bundle: Path) -> int:
    with platform.session() as session:
        actor = session.get(User, user.id)
        assert actor is not None
        return submissions.submit(platform, session, actor=actor, workspace_name="dili", bundle=bundle).id


def status(platform: Platform, submission_id: int) -> str:
    with platform.session() as session:
        row = session.get(Submission, submission_id)
        assert row is not None
        return row.status


def submission_part(tmp: Path, repeats: int) -> dict[str, float]:
    """Median seconds of one whole xgboost submission through a worker with a warm sandbox, and bare."""
    platform, user = dili_deployment(tmp / "data")
    settings = platform.settings
    executor = LocalExecutor(1)
    assert executor.pool is not None
    worker = make_worker(platform, executor=executor)
    base, fine = dili_requests()
    spec = cohorts.get_spec("dili")
    times: dict[str, list[float]] = {"worker": [], "bare": []}
    try:
        first = submit(platform, user, XGB_BUNDLE)  # cold: teaches the pool this workspace's kind
        assert worker.run_once() and status(platform, first) == "succeeded"
        for i in range(repeats):
            sid = submit(platform, user, XGB_BUNDLE)
            settle(executor.pool)
            times["worker"].append(timed(worker.run_once))
            assert status(platform, sid) == "succeeded", status(platform, sid)
            # the worker's permutations: every feature group and every feature, importance_repeats each
            perms = tuple(
                permutation_specs(spec.feature_groups, repeats=settings.importance_repeats, seed=sid)
            )
            b, f = replace(base, permutations=perms), replace(fine, permutations=perms)
            (tmp / f"sbare{i}").mkdir()
            times["bare"].append(timed(lambda i=i, b=b, f=f: bare_phases(b, f, tmp / f"sbare{i}")))
        assert executor.pool.taken == repeats
    finally:
        executor.close()
        platform.close()
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--part", choices=["all", "sandbox", "submission"], default="all")
    args = parser.parse_args()
    print(f"load average before: {loadavg()}", flush=True)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        if args.part in ("all", "sandbox"):
            sandbox_report(tmp, args.repeats)
        if args.part in ("all", "submission"):
            submission_report(tmp, args.repeats)
    print(f"load average after: {loadavg()}")


def sandbox_report(tmp: Path, repeats: int) -> None:
    t = sandbox_part(tmp, repeats)
    print(f"xgboost DILI baseline+finetune, warm bare process: {t['bare']:.2f} s")
    print(f"  warm sandbox: {t['warm']:.2f} s, ratio {t['warm'] / t['bare']:.2f}x (goal <= 1.5x)")
    print(f"  cold sandbox: {t['cold']:.2f} s, ratio {t['cold'] / t['bare']:.2f}x")
    print(f"load average: {loadavg()}", flush=True)


def submission_report(tmp: Path, repeats: int) -> None:
    s = submission_part(tmp, repeats)
    print(f"whole xgboost submission through the worker (warm sandbox): {s['worker']:.2f} s")
    ratio = s["worker"] / s["bare"]
    print(
        f"  warm bare fit/predict/permute (same permutations): {s['bare']:.2f} s, ratio {ratio:.2f}x (goal <= 2x)"
    )
    print(f"load average: {loadavg()}", flush=True)


if __name__ == "__main__":
    main()
