"""Worker recovery after kill -9: seconds from the kill to the job starting again on another worker.

Run: .venv/bin/python benchmarks/worker_recovery_bench.py [--leases 1 2 5 10] [--repeats 3]
     [--poll 0.5] [--db-url postgresql://...]

For each lease setting: worker A (a process) claims a job whose handler blocks; worker B (another
process, idle, polling every --poll seconds) is started and ready; A is killed with SIGKILL at a
random moment of its heartbeat cycle, and the time until B's handler starts the job's second
attempt is measured (wall clock, both handlers stamp it). B can take the job only once A's lease
has expired: A renews it every lease/3, so between 2/3 and all of a lease is left at the kill,
plus up to one poll before B looks. Expected: 2/3 x lease <= recovery <= lease + poll (+ the time of
one claim). Sandbox-free on purpose: this measures the queue's lease protocol, which is all that
decides recovery (the sandbox of a killed worker dies with it). SQLite in a temp dir by default.
"""

from __future__ import annotations

import argparse
import os
import platform as host
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KIND = "recovery"


def worker_main(url: str, markers: Path, name: str, lease: float, poll: float) -> None:
    """A worker process: stamps `<attempt>.started` with the wall clock, then blocks on attempt 1."""
    from cohortbench.jobs import JobContext, Worker
    from cohortbench.store.db import make_engine, session_factory

    def handle(ctx: JobContext) -> None:
        (markers / f"{ctx.attempt}.started").write_text(f"{time.time()!r} {name}")
        if ctx.attempt == 1:
            time.sleep(3600)  # killed here

    engine = make_engine(url)
    worker = Worker(session_factory(engine), {KIND: handle}, lease_seconds=lease, poll_seconds=poll)
    (markers / f"{name}.ready").touch()
    worker.run(max_jobs=1)
    engine.dispose()


def _spawn(url: str, markers: Path, name: str, lease: float, poll: float) -> subprocess.Popen[bytes]:
    argv = [sys.executable, __file__, "--worker", url, str(markers), name, str(lease), str(poll)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for(path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path.name} never appeared")
        time.sleep(0.005)


def measure(url: str, lease: float, poll: float, rng: random.Random) -> float:
    """One kill: seconds from SIGKILL of the worker running the job to its next attempt starting."""
    from cohortbench.jobs import queue
    from cohortbench.store.db import make_engine, session_factory

    engine = make_engine(url)
    with session_factory(engine)() as session, session.begin():
        queue.enqueue(session, KIND, {}, max_attempts=2)
    engine.dispose()
    with tempfile.TemporaryDirectory(prefix="cohortbench-recovery-") as tmp:
        markers = Path(tmp)
        first = _spawn(url, markers, "a", lease, poll)
        _wait_for(markers / "1.started", 60)
        standby = _spawn(url, markers, "b", lease, poll)
        _wait_for(markers / "b.ready", 60)
        time.sleep(rng.uniform(0, lease / 3))  # anywhere in A's heartbeat cycle
        killed_at = time.time()
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        _wait_for(markers / "2.started", lease * 3 + 60)
        started_at, runner = (markers / "2.started").read_text().split()
        standby.wait(timeout=60)
        assert runner == "b"
        return float(started_at) - killed_at


def _temp_sqlite() -> str:
    folder = Path(tempfile.mkdtemp(prefix="cohortbench-recovery-db-"))
    from cohortbench.store.db import make_engine, migrate

    url = f"sqlite:///{folder / 'cohortbench.db'}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    return url


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        url, markers, name, lease, poll = sys.argv[2:7]
        worker_main(url, Path(markers), name, float(lease), float(poll))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leases", type=float, nargs="+", default=[1.0, 2.0, 5.0, 10.0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--poll", type=float, default=0.5, help="the standby worker's poll interval")
    parser.add_argument("--db-url", default="", help="a migrated database (default: a temp SQLite file)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    url = args.db_url or _temp_sqlite()
    rng = random.Random(args.seed)
    backend = url.split(":", 1)[0]
    print(f"# worker recovery after kill -9 ({backend}, poll {args.poll} s, {args.repeats} kills each)")
    print(f"# {host.platform()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print("| lease (s) | recovery median (s) | min | max | expected range (s) |")
    print("|---|---|---|---|---|")
    for lease in args.leases:
        times = [measure(url, lease, args.poll, rng) for _ in range(args.repeats)]
        expected = f"{2 * lease / 3:.2f}-{lease + args.poll:.2f}"
        print(
            f"| {lease:g} | {statistics.median(times):.2f} | {min(times):.2f} | {max(times):.2f} | {expected} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
