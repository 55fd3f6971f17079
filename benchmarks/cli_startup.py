"""Start-up time of the `cohortbench` command (hyperfine-style: warm-up, then repeated runs).

Run: .venv/bin/python benchmarks/cli_startup.py [--runs 15] [--src PATH]
(a script, not a test; numbers go to docs/performance.md).

Cases: `cohortbench --help`, `cohortbench results 1` and `cohortbench leaderboard demo`. The last two
talk to a stub HTTP server in this process that answers canned JSON at once, so what is timed is
the command's own start-up (interpreter, imports, one request, printing), not a real server.
`--src` runs another checkout's code (e.g. an older commit unpacked with `git archive`), so the
same script gives before/after figures. Reports mean ± standard deviation, min and max wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

INTERVAL = {"value": 0.61, "low": 0.5, "high": 0.7}
SUBMISSION = {
    "audience": "contributor",
    "id": 1,
    "workspace": "demo",
    "contributor": "alice",
    "name": "demo-lr",
    "framework": "sklearn",
    "status": "succeeded",
    "error": None,
    "runs": [
        {"phase": "baseline", "status": "succeeded", "error": None, "headline": {"macro_f1": INTERVAL}},
        {"phase": "finetune", "status": "succeeded", "error": None, "headline": {"macro_f1": INTERVAL}},
    ],
}
LEADERBOARD = {
    "workspace": "demo",
    "metric": "macro_f1",
    "critical_class": "3",
    "rows": [
        {
            "rank": 1,
            "contributor": "alice",
            "model": "demo-lr",
            "framework": "sklearn",
            "claimed": 0.7,
            "baseline": INTERVAL,
            "finetuned": INTERVAL,
            "critical_recall": INTERVAL,
            "transfer_ratio": 0.87,
            "warning": None,
        }
    ],
}


class Stub(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(LEADERBOARD if self.path.endswith("/leaderboard") else SUBMISSION).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def timed(argv: list[str], env: dict[str, str], runs: int, warmup: int = 2) -> list[float]:
    times = []
    for i in range(warmup + runs):
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr}")
        if i >= warmup:
            times.append(elapsed)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--src", type=Path, default=Path(__file__).resolve().parents[1] / "src")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        **os.environ,
        "PYTHONPATH": str(args.src),
        "COHORTBENCH_URL": f"http://127.0.0.1:{server.server_address[1]}",
        "COHORTBENCH_TOKEN": "benchmark",
    }
    base = [sys.executable, "-m", "cohortbench.cli"]
    print(f"code: {args.src}; {args.runs} runs after 2 warm-ups; load average {os.getloadavg()[0]:.1f}")
    for case in (["--help"], ["results", "1"], ["leaderboard", "demo"]):
        t = timed(base + case, env, args.runs)
        print(
            f"cohortbench {' '.join(case):<18} mean {statistics.mean(t):.3f} s ± {statistics.stdev(t):.3f}"
            f"  min {min(t):.3f}  max {max(t):.3f}"
        )
    server.shutdown()


if __name__ == "__main__":
    main()
