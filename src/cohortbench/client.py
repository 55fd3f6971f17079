"""Python SDK over the REST API: what a contributor imports in a notebook.

>>> from cohortbench import Client
>>> cb = Client("http://127.0.0.1:8000", token)
>>> sub = cb.submit("dili", "examples/dili/xgboost", plan={"epochs": 30})
>>> cb.wait(sub)
>>> cb.leaderboard("dili")
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
from tqdm.auto import tqdm

from cohortbench.errors import CohortbenchError

FINAL = ("succeeded", "failed", "cancelled")


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


@dataclass(frozen=True)
class SubmissionResult:
    """A submission's scored runs; `per_class()` and `metrics()` give DataFrames.

    A contributor gets the numbers the workspace releases (scores on its grid, see `score_step`);
    the owner gets exact ones.
    """

    submission: Submission
    runs: list[dict[str, Any]]

    def metrics(self) -> pd.DataFrame:
        rows = []
        for run in self.runs:
            for name, item in (run.get("headline") or {}).items():
                if isinstance(item, dict) and "value" in item:
                    rows.append({"phase": run["phase"], "metric": name, **item})
        return pd.DataFrame(rows, columns=["phase", "metric", "value", "low", "high"])

    def per_class(self) -> pd.DataFrame:
        """Recall per class: as released to a contributor (`per_class`), or exact for the owner."""
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

    def leaderboard(self) -> pd.DataFrame:
        return self.client.leaderboard(self.name)


class Client:
    """A signed-in connection to a cohortbench server."""

    def __init__(self, url: str, token: str, *, timeout: float = 120.0, http: httpx.Client | None = None):
        """`http` lets tests pass an in-process client (e.g. starlette's TestClient)."""
        self._http = http or httpx.Client(base_url=url.rstrip("/"), timeout=timeout)
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
    ) -> Submission:
        """Block until the submission's runs are done, with a progress bar over its phases."""
        deadline = time.monotonic() + timeout
        with tqdm(total=2, desc=f"submission {_id(submission)}", disable=not progress, unit="phase") as bar:
            while True:
                body = self._get(f"/api/v1/submissions/{_id(submission)}")
                done = sum(r["status"] in FINAL for r in body["runs"])
                bar.update(done - bar.n)
                bar.set_postfix_str(body["status"])
                if body["status"] in FINAL:
                    return _submission(body)
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"submission {_id(submission)} still {body['status']} after {timeout:.0f} s"
                    )
                time.sleep(poll)

    def results(self, submission: int | Submission) -> SubmissionResult:
        body = self._get(f"/api/v1/submissions/{_id(submission)}")
        return SubmissionResult(_submission(body), body["runs"])

    def cancel(self, submission: int | Submission) -> None:
        self._post(f"/api/v1/submissions/{_id(submission)}/cancel")

    def leaderboard(self, workspace: str) -> pd.DataFrame:
        """The leaderboard as a DataFrame (one row per submission, intervals as _low/_high columns)."""
        body = self._get(f"/api/v1/workspaces/{workspace}/leaderboard")
        return leaderboard_frame(body)


def leaderboard_frame(body: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for row in body["rows"]:
        flat = {k: v for k, v in row.items() if not isinstance(v, dict)}
        for key in ("baseline", "finetuned", "critical_recall"):
            item = row.get(key) or {}
            flat[key] = item.get("value")
            flat[f"{key}_low"], flat[f"{key}_high"] = item.get("low"), item.get("high")
        rows.append(flat)
    return pd.DataFrame(rows)


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
