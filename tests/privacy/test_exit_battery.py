"""A canary patient and one hostile bundle per channel: nothing a contributor reads decodes it.

Each bundle runs for real (bubblewrap sandbox, worker, scorer); everything the contributor can read
is collected through the REST API, the SDK (what the CLI prints) and the pages, and searched for the
canary. The owner's view of the same submissions still carries it, which shows each channel was
really used: the release step is what closes it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from cohortbench.api import create_app
from cohortbench.client import Client
from cohortbench.privacy.channels import ALLOWED_EXCEPTIONS, COMPUTE_LEVELS
from cohortbench.service import Platform, Settings, users, workspaces
from cohortbench.workspaces import Rules, split_holdout
from cohortbench.workspaces.cohort import CohortTable
from tests.cli_runner import invoke

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]
if shutil.which("bwrap") is None:  # the Makefile installs it; without it the sandbox cannot run
    pytest.skip("bubblewrap is not installed", allow_module_level=True)

CLASSES = ("low", "mid", "high")
CANARY = 7.316249813
DIGITS = "7316249813"
BUDGET_PFLOP = 100.0

PRELUDE = """\
import json, os, sys, time
import numpy as np

def canary(X):
    return float(X["f5"].max())

def digits(X):
    return f"{canary(X):.9f}".replace(".", "")

def uniform(n):
    return np.full((n, 3), 1 / 3)
"""

MODELS = {
    "flop": """
class Model:
    @classmethod
    def load(cls, path): return cls()
    def predict_proba(self, X):
        self.flop_count = float(digits(X)) * 1e15
        return uniform(len(X))
    def fine_tune(self, X, y, plan): return [1.0]
    def save(self, path): (path / "w.npy").write_bytes(b"x")
""",
    "predictions": """
class Model:
    @classmethod
    def load(cls, path): return cls()
    def predict_proba(self, X):
        p = np.full((len(X), 3), (1 - canary(X) / 10) / 2)
        p[:, 0] = canary(X) / 10
        return p
    def fine_tune(self, X, y, plan): return [1.0]
    def save(self, path): (path / "w.npy").write_bytes(b"x")
""",
    "forged_error": """
class Model:
    @classmethod
    def load(cls, path): return cls()
    def predict_proba(self, X):
        d = digits(X)
        for phase in ("baseline", "finetune"):
            out = f"/job/output/{phase}"
            try:
                with open(f"{out}/error.json", "w") as fh:
                    json.dump({"code": "budget_exceeded", "exc_type": ["BudgetExceededError"],
                               "frames": [{"file": "model.py", "line": int(d[:6]), "function": "predict_proba"}],
                               "message": d}, fh)
            except OSError:
                pass
        os._exit(1)
    def fine_tune(self, X, y, plan): return [1.0]
    def save(self, path): pass
""",
    "exception_class": "\n".join(f"class E{i:03d}(Exception): pass" for i in range(1000))
    + """
class Model:
    @classmethod
    def load(cls, path): return cls()
    def predict_proba(self, X):
        raise globals()["E" + digits(X)[:3]]()
    def fine_tune(self, X, y, plan): return [1.0]
    def save(self, path): pass
""",
    "frames": "\n".join(f"def f{i:03d}(): raise ValueError('x')" for i in range(1000))
    + """
class Model:
    @classmethod
    def load(cls, path): return cls()
    def predict_proba(self, X):
        globals()["f" + digits(X)[:3]]()
    def fine_tune(self, X, y, plan): return [1.0]
    def save(self, path): pass
""",
    "losses": """
class Model:
    @classmethod
    def load(cls, path): return cls()
    def predict_proba(self, X):
        self.d = digits(X)
        return uniform(len(X))
    def fine_tune(self, X, y, plan):
        import pandas as pd
        holdout = pd.read_parquet("/job/input/finetune/holdout.parquet")
        return [float(c) + 0.5 for c in digits(holdout)] + [canary(holdout)]
    def save(self, path): (path / "w.npy").write_bytes(b"x")
""",
    "cpu_burn": """
class Model:
    @classmethod
    def load(cls, path): return cls()
    def predict_proba(self, X):
        end = time.process_time() + int(digits(X)[0]) * 0.02
        while time.process_time() < end:
            pass
        return uniform(len(X))
    def fine_tune(self, X, y, plan): return [1.0]
    def save(self, path): (path / "w.npy").write_bytes(b"x")
""",
    "label_probe": """
class Model:
    @classmethod
    def load(cls, path): return cls()
    def predict_proba(self, X):
        p = np.zeros((len(X), 3)); p[:, 0] = 1.0
        target = int(np.argmax(X["f5"].to_numpy()))
        p[target] = [0.0, 0.0, 1.0]
        return p
    def fine_tune(self, X, y, plan): return [1.0]
    def save(self, path): (path / "w.npy").write_bytes(b"x")
""",
}


def canary_cohort() -> tuple[pd.DataFrame, str]:
    """300 patients, 3 classes; one holdout patient of class "high" carries the canary in f5."""
    rng = np.random.default_rng(7)
    labels = np.repeat(np.arange(3), 100)
    x = rng.normal(size=(labels.size, 6)) + labels[:, None] * np.array([1.0, 0.8, 0.5, 0.0, 0.0, 0.3])
    frame = pd.DataFrame(np.round(x, 3), columns=[f"f{i}" for i in range(6)])
    frame.insert(0, "label", [CLASSES[i] for i in labels])
    frame.insert(0, "pid", [f"P{i:04d}" for i in range(labels.size)])
    holdout = split_holdout(CohortTable(frame, "pid", "label", CLASSES), holdout_fraction=0.25, seed=0)
    target = next(pid for pid in holdout if frame.loc[frame.pid == pid, "label"].item() == "high")
    frame.loc[frame.pid == target, "f5"] = CANARY
    return frame, target


@dataclass
class Battery:
    http: TestClient
    tokens: dict[str, str]
    ids: dict[str, int]
    data_dir: Path


@pytest.fixture(scope="module")
def battery(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Battery]:
    tmp = tmp_path_factory.mktemp("battery")
    settings = Settings(
        data_dir=tmp / "data", bootstrap_resamples=50, importance_repeats=1, embedded_worker=False
    )
    platform = Platform.open(settings)
    frame, _target = canary_cohort()
    tokens: dict[str, str] = {}
    with platform.session() as session:
        owner, tokens["owner"] = users.create_user(session, name="owner", is_admin=True)
        _mallory, tokens["mallory"] = users.create_user(session, name="mallory")
        workspaces.create_workspace(
            platform, session, actor=owner, name="canary", title="Canary", frame=frame,
            label_column="label", id_column="pid", critical_class="high", classes=CLASSES,
            holdout_fraction=0.25, rules=Rules(quota=20, budget_pflop=BUDGET_PFLOP, visibility="live"),
        )  # fmt: skip
        workspaces.invite(session, actor=owner, name="canary", user_name="mallory")
    with TestClient(create_app(platform)) as http:
        mallory = Client("http://testserver", tokens["mallory"], http=http)
        ids = {}
        for name, body in MODELS.items():
            root = tmp / name
            root.mkdir()
            (root / "cohortbench.toml").write_text(
                f'name = "{name}"\nframework = "python"\nentry = "model:Model"\n'
            )
            (root / "model.py").write_text(PRELUDE + textwrap.dedent(body))
            ids[name] = mallory.submit("canary", root).id
        from cohortbench.service.worker import make_worker

        worker = make_worker(platform, worker_id="battery")
        while worker.run_once():
            pass
        yield Battery(http, tokens, ids, tmp / "data")
    platform.close()


def _read_all(b: Battery, who: str, submission_id: int) -> str:
    """Everything `who` can read about a submission: API, SDK (what the CLI prints), pages."""
    auth = {"Authorization": f"Bearer {b.tokens[who]}"}
    sdk = Client("http://testserver", b.tokens[who], http=b.http)
    res = sdk.results(submission_id)
    parts = [
        b.http.get(f"/api/v1/submissions/{submission_id}", headers=auth).text,
        b.http.get("/api/v1/workspaces/canary/submissions", headers=auth).text,
        b.http.get("/api/v1/workspaces/canary/leaderboard", headers=auth).text,
        b.http.get("/api/v1/workspaces/canary", headers=auth).text,
        b.http.get("/api/v1/workspaces", headers=auth).text,
        res.metrics().to_string(),
        res.per_class().to_string(),
        str(res.submission.error),
    ]
    b.http.cookies.set("cohortbench_token", b.tokens[who])
    for path in (
        f"/s/{submission_id}",
        f"/s/{submission_id}/report",
        "/w/canary",
        "/w/canary/leaderboard",
        "/",
    ):
        page = b.http.get(path)
        assert page.status_code == 200, (path, page.status_code)
        parts.append(page.text)
    b.http.cookies.clear()
    return "\n".join(parts)


def _decodes(text: str) -> list[str]:
    """Windows of 5 canary digits found in the text (with or without the decimal point)."""
    squeezed = text.replace(".", "")
    return [DIGITS[i : i + 5] for i in range(len(DIGITS) - 4) if DIGITS[i : i + 5] in squeezed]


@pytest.mark.parametrize("channel", list(MODELS))
def test_the_canary_cannot_be_decoded_by_the_contributor(battery: Battery, channel: str) -> None:
    seen = _read_all(battery, "mallory", battery.ids[channel])
    assert _decodes(seen) == [], channel
    assert "E731" not in seen and "BudgetExceededError" not in seen and "731624" not in seen


def test_the_owner_sees_what_the_bundles_tried_to_smuggle(battery: Battery) -> None:
    """The channels were really used: exact losses, frames and the forged line reach the owner."""
    owner = Client("http://testserver", battery.tokens["owner"], http=battery.http)
    losses = owner._get(f"/api/v1/submissions/{battery.ids['losses']}")["runs"][1]["losses"]
    assert "".join(str(int(v)) for v in losses[:10]) == DIGITS
    frames = owner._get(f"/api/v1/submissions/{battery.ids['frames']}")["runs"][0]["error"]["frames"]
    assert frames and frames[-1]["function"] == "f731"


def test_released_numbers_stay_on_their_grids(battery: Battery) -> None:
    mallory = Client("http://testserver", battery.tokens["mallory"], http=battery.http)
    sentences: dict[tuple[str, str | None, str | None], set[str | None]] = {}
    for channel, sid in battery.ids.items():
        body = mallory._get(f"/api/v1/submissions/{sid}")
        assert body["audience"] == "contributor"
        assert body["compute_pflop"] in {BUDGET_PFLOP / COMPUTE_LEVELS * k for k in range(COMPUTE_LEVELS + 2)}
        assert body["loss_trend"] in ("none", "falling", "flat", "rising", "unstable"), channel
        for run in body["runs"]:
            assert run["status"] in ("succeeded", "crashed", "bad_predictions", "failed") or run["error"]
            if run["error"]:
                assert run["error"]["exc_type"] in (None, *ALLOWED_EXCEPTIONS), channel
                assert set(run["error"]) == {"code", "exc_type", "detail", "message"}
                key = (run["error"]["code"], run["error"]["exc_type"], run["error"]["detail"])
                sentences.setdefault(key, set()).add(run["error"]["message"])
            for item in run["headline"].values():
                for bound in (item.get("value"), item.get("low"), item.get("high")):
                    assert bound is None or abs(bound / 0.05 - round(bound / 0.05)) < 1e-9, (channel, bound)
    forged = mallory._get(f"/api/v1/submissions/{battery.ids['forged_error']}")
    assert forged["runs"][0]["error"]["code"] == "crashed"  # not the forged host verdict
    # the sentence beside an error is a function of the released code, name and detail (and the
    # workspace's public schema): whatever the bundle did, one (code, name, detail) reads one way
    assert sentences and all(len(said) == 1 for said in sentences.values()), sentences


def test_the_one_row_label_probe_reads_zero(battery: Battery) -> None:
    """Predicting "high" for the canary patient alone: its class's released recall is 0 either way."""
    mallory = Client("http://testserver", battery.tokens["mallory"], http=battery.http)
    body = mallory._get(f"/api/v1/submissions/{battery.ids['label_probe']}")
    recalls = {c["name"]: c["recall"] for c in body["runs"][0]["per_class"]}
    assert recalls["high"] == 0.0 and recalls["low"] == 1.0
    owner = Client("http://testserver", battery.tokens["owner"], http=battery.http)
    exact = owner._get(f"/api/v1/submissions/{battery.ids['label_probe']}")["runs"][0]["headline"]
    assert exact["per_class_recall"]["high"] == pytest.approx(1 / 25)  # the owner sees the one hit


def test_no_json_field_escapes_the_public_model(battery: Battery) -> None:
    """The contributor's JSON has exactly the public model's keys (frames, losses, resources absent)."""
    from cohortbench.service.public import RunPublic, SubmissionPublic

    mallory = Client("http://testserver", battery.tokens["mallory"], http=battery.http)
    body = mallory._get(f"/api/v1/submissions/{battery.ids['losses']}")
    assert set(body) == set(SubmissionPublic.model_fields)
    assert all(set(run) == set(RunPublic.model_fields) for run in body["runs"])
    owner = Client("http://testserver", battery.tokens["owner"], http=battery.http)
    assert {"losses", "resources", "result"} <= set(
        owner._get(f"/api/v1/submissions/{battery.ids['losses']}")["runs"][0]
    )


def test_the_cli_prints_no_canary(battery: Battery) -> None:
    """`cohortbench results` and `leaderboard` against a real server (`cohortbench serve`, a
    subprocess) on the same deployment."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "COHORTBENCH_DATA_DIR": str(battery.data_dir),
        "COHORTBENCH_EMBEDDED_WORKER": "false",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "cohortbench.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "server did not start"
                time.sleep(0.2)
        client_env = {
            "COHORTBENCH_URL": f"http://127.0.0.1:{port}",
            "COHORTBENCH_TOKEN": battery.tokens["mallory"],
        }
        # the commands in-process (tests/cli_runner.py, as main runs them), against the real server
        printed = [
            invoke(*args, env=client_env).stdout
            for args in [["leaderboard", "canary"], *(["results", str(sid)] for sid in battery.ids.values())]
        ]
        text = "\n".join(printed)
        assert "crashed" in text  # the forged error shows as the host's verdict
        assert _decodes(text) == [] and "731624" not in text and "E731" not in text
    finally:
        proc.terminate()
        proc.wait(timeout=20)
