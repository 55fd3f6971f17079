"""Python SDK over the REST API: what a contributor imports in a notebook.

>>> from cohortbench import Client
>>> cb = Client("http://127.0.0.1:8000", token)
>>> cb.check("examples/dili/xgboost", "dili").problems()  # the server's schema twin, run here: no quota
[]
>>> sub = cb.submit("dili", "examples/dili/xgboost", plan={"epochs": 30})
>>> cb.wait(sub)
>>> cb.leaderboard("dili")
"""

from __future__ import annotations

import io
import json
import ssl
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlencode

import httpx

from cohortbench.errors import CohortbenchError

if TYPE_CHECKING:
    # pandas is imported where a DataFrame is built: `cohortbench results` and `leaderboard` start
    # without it (tests/cli/test_startup.py).
    import pandas as pd

    from cohortbench.privacy.twin import SchemaTwin
    from cohortbench.sandbox.check import CheckReport

FINAL = ("succeeded", "failed", "cancelled")
PHASES = ("baseline", "finetune")


class ApiError(CohortbenchError):
    """An error answered by the server (RFC 9457 problem details)."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"{detail} (HTTP {status}, {code})", code=code)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class Submission:
    id: int
    workspace: str
    name: str
    framework: str
    status: str
    error: dict[str, Any] | None

    def error_text(self) -> str | None:
        """The failure in one line: `code (ExceptionType): detail`; None when it did not fail."""
        return format_error(self.error)


def format_error(error: dict[str, Any] | None) -> str | None:
    """`code (ExceptionType): detail — message` from an API error object (code, exc_type, detail, and
    the sentence the server built from public facts)."""
    if not error:
        return None
    text = str(error.get("code") or "error")
    if error.get("exc_type"):
        text += f" ({error['exc_type']})"
    if error.get("detail"):
        text += f": {error['detail']}"
    if error.get("message"):
        text += f" — {error['message']}"
    return text


@dataclass(frozen=True)
class SubmissionResult:
    """A submission's scored runs; `per_class()` and `metrics()` give DataFrames.

    A contributor gets the numbers the workspace releases (scores on its grid, see `score_step`);
    the owner gets exact ones.
    """

    submission: Submission
    runs: list[dict[str, Any]]

    def metric_rows(self) -> list[dict[str, Any]]:
        """One dict per (phase, metric): phase, metric, value, low, high (no pandas needed)."""
        rows = []
        for run in self.runs:
            for name, item in (run.get("headline") or {}).items():
                if isinstance(item, dict) and "value" in item:
                    rows.append(
                        {
                            "phase": run["phase"],
                            "metric": name,
                            "value": item.get("value"),
                            "low": item.get("low"),
                            "high": item.get("high"),
                        }
                    )
        return rows

    def run_errors(self) -> list[tuple[str, str]]:
        """(phase, `code (ExceptionType): detail`) of each failed run."""
        out = []
        for run in self.runs:
            text = format_error(run.get("error"))
            if text:
                out.append((str(run["phase"]), text))
        return out

    def metrics(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.metric_rows(), columns=["phase", "metric", "value", "low", "high"])

    def per_class(self) -> pd.DataFrame:
        """Recall per class: as released to a contributor (`per_class`), or exact for the owner."""
        import pandas as pd

        rows = []
        for run in self.runs:
            released = run.get("per_class")
            if released is not None:
                rows += [{"phase": run["phase"], "class": c["name"], "recall": c["recall"]} for c in released]
            else:
                recall = (run.get("headline") or {}).get("per_class_recall") or {}
                rows += [{"phase": run["phase"], "class": c, "recall": v} for c, v in recall.items()]
        return pd.DataFrame(rows, columns=["phase", "class", "recall"])


class Workspace:
    """One workspace seen through the API."""

    def __init__(self, client: Client, name: str) -> None:
        self.client, self.name = client, name

    def card(self) -> dict[str, Any]:
        data: dict[str, Any] = self.client._get(f"/api/v1/workspaces/{self.name}")
        return data

    def eda(self) -> dict[str, Any]:
        """The released EDA aggregates (small cells suppressed, no record-level values)."""
        data: dict[str, Any] = self.client._get(f"/api/v1/workspaces/{self.name}/eda")
        return data

    def leaderboard(self, *, limit: int | None = None, offset: int = 0) -> pd.DataFrame:
        return self.client.leaderboard(self.name, limit=limit, offset=offset)

    def schema(self) -> dict[str, Any]:
        """The workspace's schema twin (columns, classes, coarse ranges), as `check --schema` reads it."""
        data: dict[str, Any] = self.client._get(f"/api/v1/workspaces/{self.name}/schema")
        return data


class Client:
    """A signed-in connection to a cohortbench server."""

    def __init__(self, url: str, token: str, *, timeout: float = 120.0, http: httpx.Client | None = None):
        """`http` lets tests pass an in-process client (e.g. starlette's TestClient)."""
        self._http = http or httpx.Client(base_url=url.rstrip("/"), timeout=timeout, verify=_tls(url))
        self._auth = {"Authorization": f"Bearer {token}"}

    def close(self) -> None:
        self._http.close()

    def _check(self, response: httpx.Response) -> Any:
        if response.is_success:
            return response.json()
        try:
            body = response.json()
            raise ApiError(response.status_code, body.get("code", "error"), body.get("detail", response.text))
        except json.JSONDecodeError:
            raise ApiError(response.status_code, "error", response.text[:200]) from None

    def _get(self, path: str) -> Any:
        return self._check(self._http.get(path, headers=self._auth))

    def _post(self, path: str, **kwargs: Any) -> Any:
        return self._check(self._http.post(path, headers=self._auth, **kwargs))

    def me(self) -> dict[str, Any]:
        return self._get("/api/v1/me")  # type: ignore[no-any-return]

    def workspaces(self) -> list[dict[str, Any]]:
        return self._get("/api/v1/workspaces")["data"]  # type: ignore[no-any-return]

    def workspace(self, name: str) -> Workspace:
        return Workspace(self, name)

    def submit(
        self,
        workspace: str,
        bundle: str | Path,
        *,
        plan: dict[str, Any] | None = None,
        claimed: dict[str, float] | None = None,
    ) -> Submission:
        """Upload a bundle (folder or .zip); it is validated before the quota is charged."""
        data = {"plan": json.dumps(plan or {})}
        if claimed is not None:
            data["claimed"] = json.dumps(claimed)
        files = {"bundle": ("bundle.zip", zip_bundle(Path(bundle)), "application/zip")}
        body = self._post(f"/api/v1/workspaces/{workspace}/submissions", data=data, files=files)
        return _submission(body)

    def submission(self, submission: int | Submission) -> Submission:
        return _submission(self._get(f"/api/v1/submissions/{_id(submission)}"))

    def wait(
        self,
        submission: int | Submission,
        *,
        timeout: float = 3600.0,
        poll: float = 1.0,
        progress: bool = True,
        stream: TextIO | None = None,
    ) -> Submission:
        """Block until the submission's runs are done, showing each phase's status and elapsed time.

        On a terminal one status line is redrawn in place; elsewhere (a log, a pipe, CI) one line is
        written per change of state, so a log holds a few lines, not a carriage return per poll.
        Progress goes to `stream` (standard error by default).
        """
        sid = _id(submission)
        deadline = time.monotonic() + timeout
        shown = Progress(sid, stream if stream is not None else sys.stderr) if progress else None
        while True:
            body = self._get(f"/api/v1/submissions/{sid}")
            if shown is not None:
                shown.update(body)
            if body["status"] in FINAL:
                if shown is not None:
                    shown.close(body)
                return _submission(body)
            if time.monotonic() > deadline:
                if shown is not None:
                    shown.close(body)
                raise TimeoutError(f"submission {sid} still {body['status']} after {timeout:.0f} s")
            time.sleep(poll)

    def schema_twin(self, workspace: str) -> SchemaTwin:
        """The server's schema twin of `workspace` (any member; derived from the released EDA)."""
        from cohortbench.privacy.twin import SchemaTwin

        return SchemaTwin.from_dict(self.workspace(workspace).schema())

    def check(self, bundle: str | Path, workspace: str, *, unsafe_no_sandbox: bool = False) -> CheckReport:
        """Run both phases of `bundle` here, in the sandbox, on fake data drawn from the workspace's
        schema twin: the exact columns, class order and class count of the server, no quota used.
        `report.ok` says whether both phases succeeded; `report.problems()` what failed, in full."""
        from cohortbench.sandbox.check import check_bundle

        return check_bundle(Path(bundle), self.schema_twin(workspace), unsafe_no_sandbox=unsafe_no_sandbox)

    def results(self, submission: int | Submission) -> SubmissionResult:
        body = self._get(f"/api/v1/submissions/{_id(submission)}")
        return SubmissionResult(_submission(body), body["runs"])

    def cancel(self, submission: int | Submission) -> None:
        self._post(f"/api/v1/submissions/{_id(submission)}/cancel")

    def leaderboard(self, workspace: str, *, limit: int | None = None, offset: int = 0) -> pd.DataFrame:
        """The leaderboard as a DataFrame (one row per submission, intervals as _low/_high columns).

        The whole board by default; `limit` (and `offset`) fetch one page of its ranked rows, e.g. the
        top 20 of a 10,000-row board. The body comes gzip-compressed (httpx asks for it and decodes it).
        """
        page = {"offset": offset} if offset else {}
        if limit is not None:
            page["limit"] = limit
        query = f"?{urlencode(page)}" if page else ""
        body = self._get(f"/api/v1/workspaces/{workspace}/leaderboard{query}")
        return leaderboard_frame(body)


def leaderboard_frame(body: dict[str, Any]) -> pd.DataFrame:
    import pandas as pd

    rows = []
    for row in body["rows"]:
        flat = {k: v for k, v in row.items() if not isinstance(v, dict)}
        for key in ("baseline", "finetuned", "critical_recall"):
            item = row.get(key) or {}
            flat[key] = item.get("value")
            flat[f"{key}_low"], flat[f"{key}_high"] = item.get("low"), item.get("high")
        rows.append(flat)
    return pd.DataFrame(rows)


@dataclass
class Progress:
    """The progress of one submission: its phases, their status and time since each started.

    Elapsed times are measured by this client between polls (what it saw), not by the server.
    """

    submission_id: int
    stream: TextIO
    clock: Any = time.monotonic
    started: float = field(default=0.0)
    phase_started: dict[str, float] = field(default_factory=dict)
    phase_ended: dict[str, float] = field(default_factory=dict)
    last_state: tuple[str, ...] | None = None
    live: bool = field(default=False)

    def __post_init__(self) -> None:
        self.started = self.clock()
        isatty = getattr(self.stream, "isatty", None)
        self.live = bool(isatty and isatty())

    def _phases(self, body: dict[str, Any]) -> list[tuple[str, str]]:
        return [(str(r["phase"]), str(r["status"])) for r in body.get("runs") or []]

    def _elapsed(self, phase: str, now: float) -> float:
        start = self.phase_started.get(phase)
        if start is None:
            return 0.0
        return self.phase_ended.get(phase, now) - start

    def line(self, body: dict[str, Any], now: float) -> str:
        parts = []
        for phase, status in self._phases(body):
            if phase in self.phase_started:
                parts.append(f"{phase} {status} {self._elapsed(phase, now):.1f} s")
            else:
                parts.append(f"{phase} {status}")
        done = sum(status in FINAL for _phase, status in self._phases(body))
        total = max(len(self._phases(body)), len(PHASES))
        return (
            f"submission {self.submission_id}: {body['status']} [{done}/{total} phases] "
            + " · ".join(parts)
            + f" ({now - self.started:.1f} s)"
        )

    def update(self, body: dict[str, Any]) -> None:
        now = self.clock()
        for phase, status in self._phases(body):
            if status not in ("queued", "pending") and phase not in self.phase_started:
                self.phase_started[phase] = now
            if status in FINAL and phase not in self.phase_ended:
                self.phase_ended[phase] = now
        state = (str(body["status"]), *(f"{p}={s}" for p, s in self._phases(body)))
        if self.live:
            self.stream.write("\r\x1b[2K" + self.line(body, now))
            self.stream.flush()
        elif state != self.last_state:
            self.stream.write(self.line(body, now) + "\n")
            self.stream.flush()
        self.last_state = state

    def close(self, body: dict[str, Any]) -> None:
        if self.live:
            self.stream.write("\n")
            self.stream.flush()


def _tls(url: str) -> ssl.SSLContext | bool:
    """Certificate checks as usual for https. A plain-http URL uses no TLS, so the CA bundle (tens of
    milliseconds to load, a third of the CLI's start-up) is not loaded: its context trusts no
    certificate at all, so a stray https request fails instead of going unverified."""
    if url.lower().startswith("https:"):
        return True
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verify_mode CERT_REQUIRED, check_hostname, no CA


def _id(submission: int | Submission) -> int:
    return submission.id if isinstance(submission, Submission) else int(submission)


def _submission(body: dict[str, Any]) -> Submission:
    return Submission(
        body["id"], body["workspace"], body["name"], body["framework"], body["status"], body.get("error")
    )


def zip_bundle(path: Path) -> bytes:
    """A bundle folder as deterministic zip bytes (a .zip is sent as it is)."""
    if path.is_file():
        return path.read_bytes()
    if not path.is_dir():
        raise CohortbenchError(f"bundle {path} is neither a folder nor a .zip file")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            info = zipfile.ZipInfo(file.relative_to(path).as_posix(), date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, file.read_bytes())
    return buffer.getvalue()
