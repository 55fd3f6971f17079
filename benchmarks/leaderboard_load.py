"""Load benchmark of the leaderboard endpoint: requests per second and latency percentiles.

Run: .venv/bin/python benchmarks/leaderboard_load.py [--submissions 10000] [--threads 8] [--requests 500]
     [--variants identity,gzip,page,304] [--page-size 100]

Builds a throwaway deployment (SQLite in a temp data dir): an owner, 20 contributors, the
DILI workspace and N succeeded submissions (baseline + finetune runs with scored results)
inserted straight through the ORM, because running 1,000 real evaluations would take hours (each
submission gets the leaderboard summary the worker writes when it finishes).
A few distinct scorer results are computed once and reused. The API then runs under uvicorn
in a child process on 127.0.0.1 (so the client does not share the server's GIL), and the
client sends a bounded number of GET /api/v1/workspaces/dili/leaderboard requests, first
sequentially and then from a few threads at once, as the owner and as a contributor
(before and after the owner publishes the leaderboard). Loopback only.

Each load runs in several variants: **identity** (the whole board, `Accept-Encoding: identity`),
**gzip** (the whole board as httpx sends by default, `Accept-Encoding: gzip, deflate`, decompressed
by the client as a real one does), **page** (gzip, `?offset=..&limit=--page-size`, each client
walking the pages) and **304** (gzip, revalidating with `If-None-Match`). A latency is the time to
the last byte of the decoded body (inflated with the same zlib call as httpx's decoder); the p95
to the last byte as sent is given beside it, so the client's share shows. Against a server without gzip or pages (an older checkout, as
`PYTHONPATH=old/src`), the gzip variant measures what such a client got: the uncompressed body.
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
import zlib
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
class Variant:
    """How a client asks: the encodings it takes, a page size (None: the whole board), revalidation."""

    name: str
    accept_encoding: str
    page: int | None = None
    revalidate: bool = False


def variants(names: str, page_size: int) -> list[Variant]:
    known = {
        "identity": Variant("identity", "identity"),
        "gzip": Variant("gzip", "gzip, deflate"),
        "page": Variant(f"gzip, pages of {page_size}", "gzip, deflate", page=page_size),
        "304": Variant("gzip, If-None-Match (304)", "gzip, deflate", revalidate=True),
    }
    unknown = [n for n in names.split(",") if n not in known]
    if unknown:
        raise SystemExit(f"unknown variant(s) {unknown}; choose from {sorted(known)}")
    return [known[n] for n in names.split(",")]


@dataclass(frozen=True)
class Measurement:
    server: str  # "after" (this checkout) or "before" (--compare-src)
    scenario: str
    mode: str
    rows: int
    latencies_s: list[float]  # to the decoded body
    wire_latencies_s: list[float]  # to the last byte as sent
    elapsed_s: float
    errors: int
    wire_bytes: int  # one response's body as sent (compressed when it was)
    body_bytes: int  # and decoded

    def percentile(self, q: float, *, wire: bool = False) -> float:
        """Latency at quantile q, in milliseconds (to the decoded body; with `wire`, to the last byte)."""
        return float(np.quantile(self.wire_latencies_s if wire else self.latencies_s, q)) * 1000.0

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


def start_server(
    data_dir: Path, token: str, source: Path | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Start the server in a child process and wait until the leaderboard answers.

    `source`: a `src` folder of another checkout to serve from (the `before` of a comparison).
    """
    port = free_port()
    cmd = [sys.executable, __file__, "--serve", str(data_dir), "--port", str(port)]
    env = {**os.environ, "PYTHONPATH": str(source)} if source else None
    proc = subprocess.Popen(cmd, env=env)
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
    base: str,
    headers: dict[str, str],
    urls: list[str],
    deadline: float,
    out: list[float],
    wire: list[float],
    errs: list[int],
) -> None:
    """Send the requests of `urls` (stopping at `deadline`) on one keep-alive connection.

    Two latencies per request: to the body's last byte as sent, and to its last byte decoded.
    """
    expected = 304 if "If-None-Match" in headers else 200
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        for i, url in enumerate(urls):
            if i and time.monotonic() > deadline:  # at least one request each
                return
            start = time.perf_counter()
            with client.stream("GET", url) as response:
                raw = b"".join(response.iter_raw())
            wire.append(time.perf_counter() - start)
            decoded(raw, response.headers.get("content-encoding"))
            out.append(time.perf_counter() - start)
            if response.status_code != expected:
                errs.append(response.status_code)


def decoded(raw: bytes, encoding: str | None) -> bytes:
    """The body as a client reads it: gzip inflated by the same zlib call as httpx's own decoder."""
    if encoding == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw)
    if encoding in (None, "identity"):
        return raw
    raise ValueError(f"unexpected Content-Encoding {encoding!r}")


def measure(
    base: str,
    token: str,
    scenario: str,
    variant: Variant,
    *,
    threads: int,
    requests: int,
    time_limit: float,
    server: str = "after",
) -> Measurement:
    """`requests` requests in all, split over `threads` threads, bounded by `time_limit` seconds.

    With `variant.revalidate`, each request carries the ETag of the board last read
    (If-None-Match), as a client polling the board does: the answer is 304 without a body while
    the board is unchanged. With `variant.page`, thread k reads pages k, k+1, ... of the board
    (cycling), as clients paging through it do.
    """
    headers = {**_auth(token), "Accept-Encoding": variant.accept_encoding}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        first = client.get(URL)
        rows = len(first.json()["rows"])
        wire, body = int(first.headers.get("content-length", len(first.content))), len(first.content)
        for _ in range(5):  # warm-up: connection, caches
            client.get(URL)
    if variant.revalidate:
        headers["If-None-Match"] = first.headers["etag"]
    latencies: list[float] = []
    wire_latencies: list[float] = []
    errors: list[int] = []
    per_thread = requests // threads
    url_lists = []
    for k in range(threads):
        urls = [URL] * per_thread
        if variant.page:
            n_pages = max(1, -(-rows // variant.page))
            urls = [
                f"{URL}?offset={(k + i) % n_pages * variant.page}&limit={variant.page}"
                for i in range(per_thread)
            ]
        url_lists.append(urls)
    if variant.page:  # one page's sizes, not the board's
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            page = client.get(f"{URL}?offset=0&limit={variant.page}")
            wire, body = int(page.headers.get("content-length", len(page.content))), len(page.content)
            rows = len(page.json()["rows"])
    deadline = time.monotonic() + time_limit
    pool = [
        threading.Thread(
            target=_worker, args=(base, headers, urls, deadline, latencies, wire_latencies, errors)
        )
        for urls in url_lists
    ]
    start = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    mode = ("sequential" if threads == 1 else f"{threads} threads") + f", {variant.name}"
    elapsed = time.perf_counter() - start
    return Measurement(
        server, scenario, mode, rows, latencies, wire_latencies, elapsed, len(errors), wire, body
    )


def publish(data_dir: Path) -> None:
    platform = Platform.open(Settings(data_dir=data_dir, embedded_worker=False))
    with platform.session() as session:
        owner = users.get_user(session, "owner")
        workspaces.publish(session, actor=owner, name=WORKSPACE)
    platform.close()


# --- the report -----------------------------------------------------------------------------


def table(results: list[Measurement]) -> str:
    """A markdown table of the measurements (one row per server measured)."""
    lines = [
        "| server | view | load, variant | rows | body KB (sent) | requests | req/s | p50 ms | p95 ms | p99 ms "
        "| p95 ms to last byte | errors |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m in results:
        lines.append(
            f"| {m.server} | {m.scenario} | {m.mode} | {m.rows} | {_size(m)} | {len(m.latencies_s)} | "
            f"{m.rps:.1f} | {m.percentile(0.5):.1f} | {m.percentile(0.95):.1f} | {m.percentile(0.99):.1f} | "
            f"{m.percentile(0.95, wire=True):.1f} | {m.errors} |"
        )
    return "\n".join(lines)


def paired_table(results: list[Measurement]) -> str:
    """Before and after side by side: each pair was measured back to back, under the same load."""
    before = {(m.scenario, m.mode): m for m in results if m.server == "before"}
    lines = [
        "| view | load, variant | rows | after: body KB (sent) | before p50 | before p95 | after p50 | after p95 "
        "| after p95 to last byte | after req/s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m in (m for m in results if m.server == "after"):
        b = before.get((m.scenario, m.mode))
        old = f"{b.percentile(0.5):.0f} | {b.percentile(0.95):.0f}" if b else "| "
        lines.append(
            f"| {m.scenario} | {m.mode} | {m.rows} | {_size(m)} | {old} | {m.percentile(0.5):.0f} | "
            f"{m.percentile(0.95):.0f} | {m.percentile(0.95, wire=True):.0f} | {m.rps:.1f} |"
        )
    return "\n".join(lines)


def _size(m: Measurement) -> str:
    sent = "" if m.wire_bytes == m.body_bytes else f" ({m.wire_bytes / 1000:,.0f})"
    return f"{m.body_bytes / 1000:,.0f}{sent}"


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
        servers = {"after": start_server(dep.data_dir, dep.owner_token)}
        if args.compare_src:
            servers["before"] = start_server(dep.data_dir, dep.owner_token, args.compare_src)
        bases = {name: base for name, (_proc, base) in servers.items()}
        try:
            plan = [("owner", dep.owner_token), ("contributor, unpublished", dep.contributor_token)]
            out += _scenarios(bases, plan, args)
            publish(dep.data_dir)
            out += _scenarios(bases, [("contributor, published", dep.contributor_token)], args)
        finally:
            for proc, _base in servers.values():
                proc.terminate()
                proc.wait(timeout=30)
        return out


def _scenarios(
    bases: dict[str, str], plan: list[tuple[str, str]], args: argparse.Namespace
) -> list[Measurement]:
    """Each scenario, load and variant; with a `before` server, measured there first, then `after`.

    Pages are not asked of the `before` server (one without them would send the whole board).
    """
    out = []
    for scenario, token in plan:
        for threads in (1, args.threads):
            for variant in variants(args.variants, args.page_size):
                for server in ("before", "after"):
                    if server in bases and not (server == "before" and variant.page):
                        out.append(
                            _measure_one(bases[server], server, token, scenario, variant, threads, args)
                        )
    return out


def _measure_one(
    base: str,
    server: str,
    token: str,
    scenario: str,
    variant: Variant,
    threads: int,
    args: argparse.Namespace,
) -> Measurement:
    m = measure(
        base, token, scenario, variant, threads=threads, requests=args.requests,
        time_limit=args.time_limit, server=server,
    )  # fmt: skip
    print(
        f"{server:6} {scenario:25} {m.mode:40} p95 {m.percentile(0.95):7.1f} ms"
        f" ({m.percentile(0.95, wire=True):7.1f} to the last byte) {m.rps:6.1f} req/s"
        f"  {m.wire_bytes / 1000:8,.0f} KB sent",
        flush=True,
    )
    return m


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=500, help="requests per scenario and load")
    parser.add_argument("--threads", type=int, default=8, help="client threads of the concurrent load")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per scenario and load")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--variants", default="identity,gzip,page,304", help="comma-separated: identity, gzip, page, 304"
    )
    parser.add_argument("--page-size", type=int, default=100, help="rows per page of the page variant")
    parser.add_argument(
        "--compare-src",
        type=Path,
        help="also serve from this src folder (another checkout) and measure it first",
    )
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return
    variants(args.variants, args.page_size)  # an unknown name fails now, not after seeding
    print("load average at the start:", " ".join(f"{x:.1f}" for x in os.getloadavg()), flush=True)
    results = run(args)
    print()
    print(table(results))
    if args.compare_src:
        print()
        print(paired_table(results))
    print()
    print(machine())


if __name__ == "__main__":
    main()
