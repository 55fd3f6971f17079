"""The DILI cohort as hospitals hand it over (10 % of lab values missing, a centre and a "yes"/"no"
diabetes status as categories) through the demo path: create, EDA, check, four submissions, leaderboard."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from cohortbench.api.app import create_app
from cohortbench.client import Client
from cohortbench.cohorts import DILI, generate
from cohortbench.cohorts.spec import LIVER_PANEL
from cohortbench.cohorts.tables import CATEGORICAL, CENTRES, with_gaps
from cohortbench.sandbox.check import check_bundle
from cohortbench.service import owner, users, workspaces
from cohortbench.service.platform import Platform
from cohortbench.service.settings import Settings
from cohortbench.service.worker import make_worker
from cohortbench.workspaces import Rules

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tables"
FRAMEWORKS = ("xgboost", "lightgbm", "sklearn", "torch", "python")
RARE_CENTRE = "centre-zanzibar"  # 6 patients: a name that must never leave the workspace

pytestmark = pytest.mark.slow


@dataclass
class Hospital:
    platform: Platform
    http: TestClient
    tokens: dict[str, str]
    cohort: pd.DataFrame

    def client(self, who: str) -> Client:
        return Client("http://testserver", self.tokens[who], http=self.http)


@pytest.fixture(scope="module")
def hospital(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hospital]:
    data_dir = tmp_path_factory.mktemp("tables") / "data"
    settings = Settings(
        data_dir=data_dir, bootstrap_resamples=100, importance_repeats=1, embedded_worker=False
    )
    platform = Platform.open(settings)
    full = with_gaps(generate("dili"), fraction=0.1)
    # every injured patient and the uninjured among the first 600: 696 records keep the run short
    keep = (full[DILI.label_column] != 0) | (full.index < 600)
    cohort = full[keep].reset_index(drop=True)
    cohort.loc[cohort.index[:6], "centre"] = RARE_CENTRE
    cohort.loc[cohort.index[-3:], DILI.label_column] = None  # three records nobody labelled
    tokens: dict[str, str] = {}
    with platform.session() as session:
        admin, tokens["owner"] = users.create_user(session, name="owner", is_admin=True)
        _alice, tokens["alice"] = users.create_user(session, name="alice")
        workspace = workspaces.create_workspace(
            platform,
            session,
            actor=admin,
            name="dili-tables",
            title="DILI with gaps",
            frame=cohort,
            label_column=DILI.label_column,
            id_column=DILI.id_column,
            critical_class="3",
            classes=DILI.classes,
            holdout_fraction=0.2,
            rules=Rules(quota=5, visibility="published"),
            categorical=list(CATEGORICAL),
            missing_labels="drop",
        )
        assert workspace.settings["dropped_unlabelled"] == 3
        workspaces.invite(session, actor=admin, name="dili-tables", user_name="alice")
    with TestClient(create_app(platform)) as http:
        yield Hospital(platform, http, tokens, cohort)
    platform.close()


def test_the_stored_cohort_keeps_nan_and_fixed_levels(hospital: Hospital) -> None:
    with hospital.platform.session() as session:
        admin = users.get_user(session, "owner")
        workspace, _ = workspaces.get_workspace(session, admin, "dili-tables")
        train, holdout = workspaces.load_cohort(
            hospital.platform, workspaces.latest_version(session, workspace), workspace
        )
    assert len(train) + len(holdout) == len(hospital.cohort) - 3
    assert 0.07 < float(train["ALT"].isna().mean()) < 0.13
    for part in (train, holdout):
        assert list(part["centre"].cat.categories) == [*CENTRES, RARE_CENTRE]
        assert list(part["diabetes"].cat.categories) == ["no", "yes"]


def test_the_eda_counts_gaps_and_levels_without_the_rare_centre(hospital: Hospital) -> None:
    eda = hospital.client("alice").workspace("dili-tables").eda()
    assert RARE_CENTRE not in json.dumps(eda)
    assert set(LIVER_PANEL) <= set(eda["missing"])
    assert list(eda["categories"]["centre"]["levels"]) == [*CENTRES, "other"]
    assert eda["categories"]["diabetes"]["levels"]["yes"]["cells"]["0"]["value"] > 50
    assert "centre" not in eda["summaries"] and "ALT" in eda["summaries"]


def test_check_runs_every_table_example_on_the_twin(hospital: Hospital) -> None:
    with hospital.platform.session() as session:
        twin = owner.schema_twin(
            hospital.platform, session, actor=users.get_user(session, "owner"), name="dili-tables"
        )
    assert RARE_CENTRE not in json.dumps(twin.to_dict())
    for framework in FRAMEWORKS:
        report = check_bundle(EXAMPLES / framework, twin)
        assert report.baseline.status == "succeeded", (framework, report.baseline.owner_log)
        assert report.finetune.status == "succeeded", (framework, report.finetune.owner_log)


def test_every_framework_scores_and_reaches_the_leaderboard(hospital: Hospital) -> None:
    alice = hospital.client("alice")
    subs = {f: alice.submit("dili-tables", EXAMPLES / f) for f in FRAMEWORKS}
    worker = make_worker(hospital.platform, worker_id="tables-worker")
    while worker.run_once():
        pass
    for framework, sub in subs.items():
        done = alice.wait(sub, progress=False, timeout=120)
        assert done.status == "succeeded" and done.error is None, (framework, done.error)
    board = alice.leaderboard("dili-tables")
    assert set(board["framework"]) == set(FRAMEWORKS)
    assert board["finetuned"].notna().all() and (board["finetuned"] > 0.3).all()
