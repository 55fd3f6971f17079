"""The members' schema twin: fetched over the API, derived from the released EDA alone, used by
`check --url` / `Client.check`; and the public-fact sentence of a failed real-data run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cohortbench.cli.check import check
from cohortbench.privacy.released import round_significant
from cohortbench.privacy.twin import SchemaTwin

from .conftest import CLASSES, Deployment, make_bundle

WRONG_SHAPE = """\
import numpy as np


class Model:
    @classmethod
    def load(cls, path):
        return cls()

    def predict_proba(self, X):
        return np.full((len(X), 2), 0.5)

    def fine_tune(self, X, y, plan):
        return [1.0]

    def save(self, path):
        path.mkdir(parents=True, exist_ok=True)
"""


def wrong_shape_bundle(root: Path) -> Path:
    """Two columns for the tiny workspace's three classes."""
    root.mkdir(parents=True)
    (root / "cohortbench.toml").write_text('name = "two-cols"\nframework = "python"\nentry = "model:Model"\n')
    (root / "model.py").write_text(WRONG_SHAPE)
    return root


def test_a_contributor_fetches_the_twin_with_the_workspace_columns_and_classes(
    deployment: Deployment,
) -> None:
    alice = deployment.client("alice")
    twin = alice.schema_twin("tiny")
    assert twin.classes == CLASSES and twin.label_column == "label" and twin.id_column == "pid"
    assert [c.name for c in twin.columns] == [f"f{i}" for i in range(6)]
    assert twin.n_records == 240 and twin.class_shares == {c: 0.33 for c in CLASSES}
    frame = twin.synthesize(50)
    assert list(frame.columns) == ["pid", "label", *(f"f{i}" for i in range(6))]


def test_the_members_twin_draws_each_column_in_its_stored_dtype(deployment: Deployment) -> None:
    """X in `check` has the dtypes X will have on the real data: those of the stored table."""
    import pyarrow.parquet as pq
    from sqlalchemy import select

    from cohortbench.service.workspaces import latest_version
    from cohortbench.store.models import Workspace

    twin = deployment.client("alice").schema_twin("tiny")
    with deployment.platform.session() as session:
        workspace = session.scalars(select(Workspace).where(Workspace.name == "tiny")).one()
        path = deployment.platform.artifacts.path(latest_version(session, workspace).data_artifact)
    stored = pq.read_table(path).to_pandas()
    assert {c.name: c.dtype for c in twin.columns} == {
        c.name: str(stored[c.name].dtype) for c in twin.columns
    }
    fake = twin.synthesize(30)
    assert fake.dtypes[[c.name for c in twin.columns]].equals(stored.dtypes[[c.name for c in twin.columns]])


def test_the_twin_is_a_function_of_the_released_eda_only(deployment: Deployment) -> None:
    """Every range is a released percentile at 2 significant digits: nothing the EDA page lacks."""
    alice = deployment.client("alice")
    eda = alice.workspace("tiny").eda()
    twin = alice.workspace("tiny").schema()
    for column in twin["columns"]:
        for cls, (lo, hi) in column["ranges"].items():
            summary = eda["summaries"][column["name"]][cls]
            assert lo == round_significant(summary["p5"]["value"], 2)
            assert hi == round_significant(summary["p95"]["value"], 2)
    text = json.dumps(twin)
    values = deployment.cohort[[f"f{i}" for i in range(6)]].to_numpy().ravel()
    assert not any(f"{v:.6f}"[:8] in text for v in values)  # no record value (long decimals) leaks


def test_a_non_member_gets_no_twin(deployment: Deployment) -> None:
    from cohortbench.service import users

    with deployment.platform.session() as session:
        _mallory, token = users.create_user(session, name="mallory")
    response = deployment.http.get(
        "/api/v1/workspaces/tiny/schema", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code in (403, 404)


@pytest.mark.slow
def test_client_check_runs_the_bundle_on_the_servers_twin(deployment: Deployment, tmp_path: Path) -> None:
    alice = deployment.client("alice")
    good = alice.check(make_bundle(tmp_path / "good"), "tiny")
    assert good.ok and good.baseline.predictions is not None and good.baseline.predictions.shape[1] == 3
    bad = alice.check(wrong_shape_bundle(tmp_path / "bad"), "tiny")
    assert not bad.ok
    assert any("bad_predictions" in p and "shape" in p for p in bad.problems()), bad.problems()


def test_check_url_fetches_the_twin(
    deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cohortbench.cli.check as cli_check

    alice = deployment.client("alice")
    monkeypatch.setattr(cli_check, "client", lambda url, token: alice)
    app = typer.Typer()
    app.command()(check)
    app.command("other")(lambda: None)
    bundle = wrong_shape_bundle(tmp_path / "bad")
    args = ["check", str(bundle), "--workspace", "tiny", "--url", "http://testserver", "--token", "t"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "bad_predictions" in result.output and "(n, 3)" not in result.output
    assert "shape" in result.output


def test_a_wrong_shape_on_real_data_is_stated_from_public_facts(
    deployment: Deployment, tmp_path: Path
) -> None:
    alice = deployment.client("alice")
    sub = alice.submit("tiny", wrong_shape_bundle(tmp_path / "bad"))
    deployment.run_jobs()
    done = alice.submission(sub)
    assert done.status == "failed"
    text = done.error_text() or ""
    assert "wrong_shape" in text and "shape (60, 3)" in text and "0: low, 1: mid, 2: high" in text
    assert "(60, 2)" not in text  # the shape the model chose (sandbox-made) never leaves


def test_submit_checks_on_the_twin_first_and_charges_nothing_on_a_public_fact_error(
    deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cohortbench.cli.contribute as contribute

    alice = deployment.client("alice")
    monkeypatch.setattr(contribute, "client", lambda url, token: alice)
    app = typer.Typer()
    app.command()(contribute.submit)
    app.command("other")(lambda: None)
    bundle = wrong_shape_bundle(tmp_path / "bad")
    refused = CliRunner().invoke(app, ["submit", "tiny", str(bundle), "--token", "t"])
    assert refused.exit_code == 1
    assert "bad_predictions" in refused.output and "not submitted" in refused.output
    assert alice.workspace("tiny").card()["submissions_used"] == 0
    sent = CliRunner().invoke(app, ["submit", "tiny", str(bundle), "--token", "t", "--no-check", "--no-wait"])
    assert sent.exit_code == 0, sent.output
    assert alice.workspace("tiny").card()["submissions_used"] == 1


def test_withheld_percentiles_fall_back_to_released_means_or_a_standard_range() -> None:
    """Under DP the EDA withholds percentiles and SDs: the twin uses what is released, nothing else."""
    from cohortbench.service.schema import DEFAULT_RANGE, twin_from_eda
    from cohortbench.store.models import Workspace

    ws = Workspace(
        id_column="pid", label_column="label", classes=["a", "b"], feature_groups={"g": ["x", "y", "z"]}
    )
    withheld = {"value": None, "protection": "withheld"}

    def shown(v: float) -> dict[str, object]:
        return {"value": v, "protection": "dp"}

    eda = {
        "class_distribution": {"cells": {"a": shown(60), "b": withheld}, "total": shown(100)},
        "summaries": {
            "x": {c: {"mean": shown(5.0), "sd": withheld, "p5": withheld, "p95": withheld} for c in "ab"},
            "y": {c: {"mean": withheld, "sd": withheld, "p5": withheld, "p95": withheld} for c in "ab"},
            "z": {"a": {"mean": shown(0.3), "p5": shown(0.0), "p95": shown(1.0)}, "b": {}},
        },
    }
    twin = twin_from_eda(ws, eda, n_records=1234, features=["z", "x", "y"])
    assert [c.name for c in twin.columns] == ["z", "x", "y"]  # X's order, not the groups'
    x, y, z = twin.columns[1], twin.columns[2], twin.columns[0]
    assert x.ranges == {"a": (5.0, 5.0), "b": (5.0, 5.0)} and y.ranges == {
        "a": DEFAULT_RANGE,
        "b": DEFAULT_RANGE,
    }
    assert z.kind == "binary" and z.ranges == {"a": (0.3, 0.3), "b": (0.3, 0.3)}
    assert twin.class_shares == {"a": 0.6, "b": None} and twin.n_records == 1200
    assert SchemaTwin.from_dict(twin.model_dump()).synthesize(20)["z"].isin([0, 1]).all()


def test_members_are_told_no_integer_width() -> None:
    """A narrow integer type bounds every record (uint8: all within 0..255): members get int64."""
    from cohortbench.service.schema import public_dtype

    assert [public_dtype(d) for d in ("uint8", "int16", "int32", "int64")] == ["int64"] * 4
    assert [public_dtype(d) for d in ("float32", "float64", "bool")] == ["float32", "float64", "bool"]
