"""Owner administration and exports on a local deployment: users, tokens, submissions, exports.

The commands run in-process (typer's CliRunner) on the data directory of the service tests'
deployment, with one scored submission of alice's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score
from sqlalchemy import select
from typer.testing import CliRunner

from cohortbench.cli.app import app
from cohortbench.client import ApiError, Client
from cohortbench.errors import PermissionDeniedError
from cohortbench.service import exports, users
from cohortbench.store.models import AuditEntry, User
from tests.service.conftest import CLASSES, Deployment, make_bundle


def run_cli(deployment: Deployment, *args: str, code: int = 0) -> str:
    """The command's output; with code=1, the message of the error it raised (what `main` prints)."""
    data_dir = deployment.platform.settings.data_dir
    done = CliRunner().invoke(app, [*args, "--data-dir", str(data_dir)])
    assert done.exit_code == code, (done.output, done.exception)
    return str(done.exception) if code else done.output


def audit_actions(deployment: Deployment) -> list[str]:
    with deployment.platform.session() as session:
        return [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


@pytest.fixture
def scored(deployment: Deployment, tmp_path: Path) -> Iterator[tuple[Deployment, int]]:
    alice = deployment.client("alice")
    sub = alice.submit("tiny", make_bundle(tmp_path / "bundle"))
    deployment.run_jobs()
    assert alice.wait(sub, progress=False, timeout=120).status == "succeeded"
    yield deployment, sub.id


def test_user_list_and_token_reset(deployment: Deployment) -> None:
    listing = run_cli(deployment, "user", "list")
    assert "alice" in listing and "victor" in listing
    assert deployment.tokens["alice"] not in listing  # prefixes only, never a token
    old = deployment.client("alice")
    assert old.me()["name"] == "alice"
    out = run_cli(deployment, "user", "token-reset", "alice")
    match = re.search(r"new API token \(shown once\): (\S+)", out)
    assert match
    with pytest.raises(ApiError, match="401"):
        old.me()
    new = Client("http://testserver", match.group(1), http=deployment.http)
    assert new.me()["name"] == "alice"
    assert audit_actions(deployment)[-2:] == ["token.revoke", "token.issue"]
    assert "no user named 'nobody'" in run_cli(deployment, "user", "token-reset", "nobody", code=1)


def test_only_administrators_list_users_or_reset_tokens(deployment: Deployment) -> None:
    with deployment.platform.session() as session:
        alice = session.scalars(select(User).where(User.name == "alice")).one()
        with pytest.raises(PermissionDeniedError):
            users.list_users(session, actor=alice)
        with pytest.raises(PermissionDeniedError):
            users.reset_token(session, actor=alice, name="bob")


@pytest.mark.sandbox
def test_submissions_list_and_exports(scored: tuple[Deployment, int], tmp_path: Path) -> None:
    deployment, sub_id = scored
    listing = run_cli(deployment, "submissions", "list", "--workspace", "tiny")
    assert "tiny-lr" in listing and "alice" in listing and "succeeded" in listing
    assert "tiny-lr" in run_cli(deployment, "submissions", "list")

    ids_file = tmp_path / "holdout.csv"
    run_cli(deployment, "export", "holdout", "tiny", "--out", str(ids_file))
    ids = pd.read_csv(ids_file)["pid"].astype(str).tolist()
    assert len(ids) == 60 and ids == sorted(ids)

    pred_file = tmp_path / "predictions.parquet"
    run_cli(deployment, "export", "predictions", str(sub_id), "--out", str(pred_file))
    frame = pd.read_parquet(pred_file)
    assert frame["pid"].tolist() == ids
    truth = dict(zip(deployment.cohort["pid"], deployment.cohort["label"], strict=True))
    assert frame["label"].tolist() == [truth[i] for i in ids]
    assert list(frame.columns[2:]) == [f"{p}_p_{c}" for p in ("baseline", "finetune") for c in CLASSES]

    # the owner API's exact macro-F1 equals scikit-learn's on the exported predictions
    owner_view = deployment.client("owner")._get(f"/api/v1/submissions/{sub_id}")
    y = np.array([CLASSES.index(v) for v in frame["label"]])
    for run in owner_view["runs"]:
        proba = frame[[f"{run['phase']}_p_{c}" for c in CLASSES]].to_numpy()
        recomputed = f1_score(y, proba.argmax(axis=1), average="macro", labels=range(len(CLASSES)))
        assert recomputed == pytest.approx(run["headline"]["macro_f1"]["value"], abs=1e-12)
    assert audit_actions(deployment)[-2:] == ["export.holdout_ids", "export.predictions"]


@pytest.mark.sandbox
def test_exports_are_owner_only_and_refuse_other_suffixes(
    scored: tuple[Deployment, int], tmp_path: Path
) -> None:
    deployment, sub_id = scored
    before = audit_actions(deployment)
    with deployment.platform.session() as session:
        alice = session.scalars(select(User).where(User.name == "alice")).one()
        with pytest.raises(PermissionDeniedError):
            exports.predictions(deployment.platform, session, actor=alice, submission_id=sub_id)
        with pytest.raises(PermissionDeniedError):
            exports.holdout_ids(deployment.platform, session, actor=alice, name="tiny")
    bad = run_cli(deployment, "export", "holdout", "tiny", "--out", str(tmp_path / "ids.xlsx"), code=1)
    assert ".csv or .parquet" in bad
    assert audit_actions(deployment) == before


def test_check_on_a_local_workspace_and_without_one(deployment: Deployment, tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "bundle")
    out = run_cli(deployment, "check", str(bundle), "--workspace", "tiny")
    assert "baseline: succeeded" in out and "finetune: succeeded" in out
    assert audit_actions(deployment)[-1] == "schema_twin.build"
    missing = run_cli(deployment, "check", str(bundle), code=1)
    assert "needs --workspace" in missing and "tiny" in missing and "dili, neuromuscular" in missing
    unknown = run_cli(deployment, "check", str(bundle), "--workspace", "nope", code=1)
    assert "no workspace named 'nope'" in unknown and "tiny" in unknown


def test_check_without_a_deployment_lists_the_reference_cohorts(tmp_path: Path) -> None:
    done = CliRunner().invoke(app, ["check", str(tmp_path), "--data-dir", str(tmp_path / "none")])
    assert done.exit_code == 1
    assert "no deployment at" in str(done.exception) and "dili, neuromuscular" in str(done.exception)
    assert not (tmp_path / "none").exists()  # looking did not create a deployment
