"""Load benchmark of the leaderboard endpoint: requests per second and latency percentiles.

Run: .venv/bin/python benchmarks/leaderboard_load.py [--submissions 10000] [--threads 8] [--requests 500]

Builds a throwaway deployment (SQLite in a temp data dir): an owner, 20 contributors, the
DILI workspace and N succeeded submissions (baseline + finetune runs with scored results)
inserted straight through the ORM, because running 1,000 real evaluations would take hours (each
submission gets the leaderboard summary the worker writes when it finishes).
A few distinct scorer results are computed once and reused. The API then runs under uvicorn
in a child process on 127.0.0.1 (so the client does not share the server's GIL), and the
client sends a bounded number of GET /api/v1/workspaces/dili/leaderboard requests, first
sequentially and then from a few threads at once, as the owner and as a contributor
(before and after the owner publishes the leaderboard). Loopback only.
"""

from __future__ import annotations

import argparse
import os
import platform as host
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from cohortbench.cohorts import generate
from cohortbench.scoring import score
from cohortbench.service import Platform, Settings, users, workspaces
from cohortbench.service.board_record import board_of, headline_of
from cohortbench.store.models import Result, Run, Submission, User, Workspace, utcnow

WORKSPACE = "dili"
CLASSES = ("0", "1", "2", "3")
URL = f"/api/v1/workspaces/{WORKSPACE}/leaderboard"
RESOURCES = {
    "cpu_seconds": 10.0,
    "gpu_seconds": 0.0,
    "wall_seconds": 12.0,
    "peak_memory_bytes": 1e9,
    "flop": 5e11,
    "n_parameters": 1000,
}


@dataclass(frozen=True)
class Deployment:
    data_dir: Path
    owner_token: str
    contributor_token: str
    contributor_rows: int


@dataclass(frozen=True)
class Measurement:
    scenario: str
    mode: str
    rows: int
    latencies_s: list[float]
    elapsed_s: float
    errors: int

    def percentile(self, q: float) -> float:
        """Latency at quantile q, in milliseconds."""
        return float(np.quantile(self.latencies_s, q)) * 1000.0

    @property
    def rps(self) -> float:
        return len(self.latencies_s) / self.elapsed_s if self.elapsed_s else 0.0


# --- the deployment -------------------------------------------------------------------------


def scored_results(n_distinct: int, seed: int) -> list[tuple[dict[str, object], dict[str, object]]]:
    """(result, headline) pairs for random probability matrices of varied quality on the holdout."""
    frame = generate(WORKSPACE)
    y = frame["dili_class"].astype(str).to_numpy()[: max(200, len(frame) // 5)]
    idx = np.searchsorted(np.array(CLASSES), y)
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n_distinct):
        strength = 0.5 + 3.0 * i / max(1, n_distinct - 1)
        logits = rng.normal(size=(len(y), len(CLASSES))) + strength * np.eye(len(CLASSES))[idx]
        proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        result = score(y, proba, classes=CLASSES, critical_class="3", n_resamples=200, seed=i)
        out.append((result.to_dict(), headline_of(result)))
    return out


def build(data_dir: Path, *, n_submissions: int, n_contributors: int, seed: int) -> Deployment:
    """Create the deployment and fill the workspace with succeeded submissions."""
    platform = Platform.open(Settings(data_dir=data_dir, embedded_worker=False))
    try:
        with platform.session() as session:
            owner, owner_token = users.create_user(session, name="owner", is_admin=True)
            workspaces.create_workspace(
                platform, session, actor=owner, name=WORKSPACE, title="DILI severity",
                frame=generate(WORKSPACE), label_column="dili_class", id_column="patient_id",
                critical_class="3", classes=CLASSES,
            )  # fmt: skip
            people = _contributors(session, owner, n_contributors)
        results = scored_results(6, seed)
        with platform.session() as session:
            _insert_submissions(session, [u for u, _ in people], results, n_submissions, seed)
        mine = sum(1 for i in range(n_submissions) if i % len(people) == 0)
        return Deployment(data_dir, owner_token, people[0][1], mine)
    finally:
        platform.close()


def _contributors(session: Session, owner: User, n: int) -> list[tuple[User, str]]:
    people = []
    for i in range(n):
        user, token = users.create_user(session, name=f"contributor{i:02d}")
        workspaces.invite(session, actor=owner, name=WORKSPACE, user_name=user.name)
        people.append((user, token))
    return people


def _insert_submissions(
    session: Session,
    people: list[User],
    results: list[tuple[dict[str, object], dict[str, object]]],
    n: int,
    seed: int,
) -> None:
    """Submissions round-robin over the contributors; runs and results reuse the scored results.

    Bulk inserts (10,000 submissions in seconds, not minutes of per-row flushes); each submission
    then gets its leaderboard summary from `board_of`, as the worker writes it when it finishes.
    """
    ws = session.scalars(select(Workspace).where(Workspace.name == WORKSPACE)).one()
    version = workspaces.latest_version(session, ws)
    rng = np.random.default_rng(seed)
    first = (session.scalar(select(func.max(Submission.id))) or 0) + 1
    now = utcnow()
    subs = [
        {
            "id": first + i, "workspace_id": ws.id, "user_id": people[i % len(people)].id,
            "cohort_version_id": version.id, "name": f"model-{i:05d}", "framework": "sklearn",
            "bundle_sha256": f"{i:064x}", "claimed": {"macro_f1": round(float(rng.uniform(0.5, 0.95)), 3)},
            "status": "succeeded", "compute_pflop": 1e-3, "finished_at": now,
        }
        for i in range(n)
    ]  # fmt: skip
    session.execute(insert(Submission), subs)
    run_id = (session.scalar(select(func.max(Run.id))) or 0) + 1
    runs, rows = [], []
    for sub in subs:
        for phase in ("baseline", "finetune"):
            result, headline = results[int(rng.integers(len(results)))]
            runs.append({"id": run_id, "submission_id": sub["id"], "phase": phase, "status": "succeeded",
                         "resources": dict(RESOURCES)})  # fmt: skip
            rows.append({"run_id": run_id, "result": result, "headline": headline})
            run_id += 1
    session.execute(insert(Run), runs)
    session.execute(insert(Result), rows)
    boards = [{"id": sub["id"], "board": board_of(session, sub["id"])} for sub in subs]
    session.execute(update(Submission), boards)


# --- the server -----------------------------------------------------------------------------


def serve(data_dir: Path, port: int) -> None:
    """Child-process entry: the real app under uvicorn on loopback."""
    import uvicorn

    from cohortbench.api import create_app

    app = create_app(Platform.open(Settings(data_dir=data_dir, embedded_worker=False)))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(data_dir: Path, token: str) -> tuple[subprocess.Popen[bytes], str]:
    """Start the server in a child process and wait until the leaderboard answers."""
    port = free_port()
    cmd = [sys.executable, __file__, "--serve", str(data_dir), "--port", str(port)]
    proc = subprocess.Popen(cmd)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + URL, headers=_auth(token), timeout=10).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not answer within 60 s")


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- the load -------------------------------------------------------------------------------


def _worker(
    base: str, headers: dict[str, str], count: int, deadline: float, out: list[float], errs: list[int]
) -> None:
    """Send up to `count` requests (stopping at `deadline`) on one keep-alive connection."""
    expected = 304 if "If-None-Match" in headers else 200
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        for _ in range(count):
            if time.monotonic() > deadline:
                return
            start = time.perf_counter()
            response = client.get(URL)
            out.append(time.perf_counter() - start)
            if response.status_code != expected:
                errs.append(response.status_code)


def measure(
    base: str,
    token: str,
    scenario: str,
    *,
    threads: int,
    requests: int,
    time_limit: float,
    revalidate: bool = False,
) -> Measurement:
    """`requests` requests in all, split over `threads` threads, bounded by `time_limit` seconds.

    With `revalidate`, each request carries the ETag of the board last read (If-None-Match), as a
    client polling the board does: the answer is 304 without a body while the board is unchanged.
    """
    with httpx.Client(base_url=base, headers=_auth(token), timeout=120) as client:
        first = client.get(URL)
        rows = len(first.json()["rows"])
        for _ in range(5):  # warm-up: connection, caches
            client.get(URL)
    headers = _auth(token)
    if revalidate:
        headers["If-None-Match"] = first.headers["etag"]
    latencies: list[float] = []
    errors: list[int] = []
    deadline = time.monotonic() + time_limit
    args = (base, headers, requests // threads, deadline, latencies, errors)
    pool = [threading.Thread(target=_worker, args=args) for _ in range(threads)]
    start = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    mode = "sequential" if threads == 1 else f"{threads} threads"
    if revalidate:
        mode += ", If-None-Match (304)"
    return Measurement(scenario, mode, rows, latencies, time.perf_counter() - start, len(errors))


def publish(data_dir: Path) -> None:
    platform = Platform.open(Settings(data_dir=data_dir, embedded_worker=False))
    with platform.session() as session:
        owner = users.get_user(session, "owner")
        workspaces.publish(session, actor=owner, name=WORKSPACE)
    platform.close()


# --- the report -----------------------------------------------------------------------------


def table(results: list[Measurement]) -> str:
    """A markdown table of the measurements."""
    lines = [
        "| view | load | rows | requests | req/s | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for m in results:
        lines.append(
            f"| {m.scenario} | {m.mode} | {m.rows} | {len(m.latencies_s)} | {m.rps:.1f} | "
            f"{m.percentile(0.5):.1f} | {m.percentile(0.95):.1f} | {m.percentile(0.99):.1f} | {m.errors} |"
        )
    return "\n".join(lines)


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{host.processor() or host.machine()}, {os.cpu_count()} cores, Python {host.python_version()}, "
        f"load average {load:.1f} at the end of the run"
    )


def run(args: argparse.Namespace) -> list[Measurement]:
    with tempfile.TemporaryDirectory(prefix="cohortbench-load-") as tmp:
        t0 = time.perf_counter()
        dep = build(Path(tmp), n_submissions=args.submissions, n_contributors=20, seed=args.seed)
        print(f"seeded {args.submissions} submissions in {time.perf_counter() - t0:.1f} s", flush=True)
        out: list[Measurement] = []
        proc, base = start_server(dep.data_dir, dep.owner_token)
        try:
            plan = [("owner", dep.owner_token), ("contributor, unpublished", dep.contributor_token)]
            out += _scenarios(base, plan, args)
            publish(dep.data_dir)
            out += _scenarios(base, [("contributor, published", dep.contributor_token)], args)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        return out


def _scenarios(base: str, plan: list[tuple[str, str]], args: argparse.Namespace) -> list[Measurement]:
    out = []
    for scenario, token in plan:
        for threads, revalidate in ((1, False), (args.threads, False), (args.threads, True)):
            if revalidate and args.no_etag:
                continue
            m = measure(
                base, token, scenario, threads=threads, requests=args.requests,
                time_limit=args.time_limit, revalidate=revalidate,
            )  # fmt: skip
            print(
                f"{scenario:28} {m.mode:11} p95 {m.percentile(0.95):7.1f} ms  {m.rps:6.1f} req/s", flush=True
            )
            out.append(m)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=500, help="requests per scenario and load")
    parser.add_argument("--threads", type=int, default=8, help="client threads of the concurrent load")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per scenario and load")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-etag", action="store_true", help="skip the If-None-Match runs (a server without ETags)"
    )
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return
    results = run(args)
    print()
    print(table(results))
    print()
    print(machine())


if __name__ == "__main__":
    main()
