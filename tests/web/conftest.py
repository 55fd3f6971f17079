"""A small real deployment for the web pages: the DILI cohort, an owner, three contributors, an outsider,
and scored submissions whose Results come from the real scorer on made-up probability matrices
(the sandbox is not run here: it is slow and tested elsewhere)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from cohortbench.api import create_app
from cohortbench.cohorts import DILI, generate
from cohortbench.scoring import PermutedPrediction, score
from cohortbench.service import Platform, Settings, users, workspaces
from cohortbench.service.auth import TOKEN_COOKIE
from cohortbench.service.board_record import headline_of
from cohortbench.store.models import Result as ResultRow
from cohortbench.store.models import Run, Submission, User
from cohortbench.workspaces import Resources, Rules

WORKSPACE = "dili"
N_RESAMPLES = 200


@dataclass(frozen=True)
class Spec:
    """A made-up submission: how often its baseline / finetune are right overall and on class 3."""

    user: str
    name: str
    framework: str
    claimed: float
    skill: tuple[float, float]
    critical_skill: tuple[float, float]
    failed_finetune: bool = False


SPECS = (
    Spec("alice", "alice-gbm", "sklearn", 0.82, (0.70, 0.80), (0.45, 0.60)),
    Spec("bob", "bob-xgb", "xgboost", 0.79, (0.75, 0.88), (0.55, 0.80)),
    Spec("carol", "carol-net", "torch", 0.85, (0.80, 0.86), (0.25, 0.35)),
    Spec("alice", "alice-broken", "python", 0.80, (0.70, 0.70), (0.5, 0.5), failed_finetune=True),
)


@dataclass
class WebDeployment:
    platform: Platform
    tokens: dict[str, str]
    submissions: dict[str, int] = field(default_factory=dict)

    def client(self, app: Any, who: str | None) -> TestClient:
        http = TestClient(app, follow_redirects=False)
        if who is not None:
            http.cookies.set(TOKEN_COOKIE, self.tokens[who])
        return http


def fake_proba(
    y: np.ndarray, k: int, skill: float, critical_skill: float, rng: np.random.Generator
) -> np.ndarray:
    """Probabilities whose argmax is right with probability `skill` (`critical_skill` on the last class)."""
    right = rng.random(y.size) < np.where(y == k - 1, critical_skill, skill)
    wrong = (y + rng.integers(1, k, size=y.size)) % k
    pred = np.where(right, y, wrong)
    proba = rng.dirichlet(np.ones(k), size=y.size) * 0.35
    proba[np.arange(y.size), pred] += 0.65
    return proba / proba.sum(axis=1, keepdims=True)


def permuted(proba: np.ndarray, rng: np.random.Generator) -> list[PermutedPrediction]:
    """Importance of each DILI feature group: shuffling a fraction of rows, larger for the dosing group."""
    weights = {"dosing": 0.6, "liver_panel": 0.4, "bile_acids": 0.2, "lipids": 0.05, "demographics": 0.02}
    out = []
    for group, weight in weights.items():
        for repeat in range(2):
            mixed = proba.copy()
            rows = rng.random(len(proba)) < weight
            mixed[rows] = proba[rng.permutation(len(proba))][rows]
            out.append(PermutedPrediction("group", group, repeat, mixed))
    return out


def _holdout_labels(platform: Platform, session: Any) -> np.ndarray:
    workspace, _ = workspaces.get_workspace(session, users.get_user(session, "owner"), WORKSPACE)
    _, holdout = workspaces.load_cohort(platform, workspaces.latest_version(session, workspace), workspace)
    return np.array([DILI.classes.index(str(v)) for v in holdout[DILI.label_column]])


def _run(session: Any, submission: Submission, phase: str, y: np.ndarray, spec: Spec, i: int) -> None:
    rng = np.random.default_rng([i, phase == "finetune"])
    failed = phase == "finetune" and spec.failed_finetune
    run = Run(
        submission_id=submission.id,
        phase=phase,
        status="failed" if failed else "succeeded",
        resources={
            "cpu_seconds": 40.0 + i,
            "wall_seconds": 22.5,
            "peak_memory_bytes": 900 * 2**20,
            "flop": 2.1e14,
        },
        losses={"train": [] if phase == "baseline" else [1.2 * 0.8**e + 0.05 for e in range(12)]},
        public_error={
            "code": "crashed",
            "exc_type": "ValueError",
            "frames": [{"file": "model.py", "line": 42, "function": "fine_tune"}],
        }
        if failed
        else None,
    )
    session.add(run)
    session.flush()
    if failed:
        return
    j = int(phase == "finetune")
    proba = fake_proba(y, len(DILI.classes), spec.skill[j], spec.critical_skill[j], rng)
    result = score(
        y,
        proba,
        classes=DILI.classes,
        critical_class="3",
        n_resamples=N_RESAMPLES,
        permuted=permuted(proba, rng),
    )
    session.add(ResultRow(run_id=run.id, result=result.to_dict(), headline=headline_of(result)))


def add_submissions(platform: Platform) -> dict[str, int]:
    """Insert the SPECS as succeeded submissions with baseline and finetune runs and real Results."""
    ids: dict[str, int] = {}
    with platform.session() as session:
        y = _holdout_labels(platform, session)
        workspace, _ = workspaces.get_workspace(session, users.get_user(session, "owner"), WORKSPACE)
        version = workspaces.latest_version(session, workspace)
        for i, spec in enumerate(SPECS):
            user = users.get_user(session, spec.user)
            submission = Submission(
                workspace_id=workspace.id,
                user_id=user.id,
                cohort_version_id=version.id,
                name=spec.name,
                framework=spec.framework,
                bundle_sha256=f"{i:x}" * 64,
                manifest={"name": spec.name},
                plan={"epochs": 12, "learning_rate": 0.001, "seed": 0},
                claimed={"macro_f1": spec.claimed},
                status="succeeded",
                compute_pflop=0.42,
                public_error=None
                if not spec.failed_finetune
                else {"code": "crashed", "exc_type": "ValueError", "frames": []},
            )
            session.add(submission)
            session.flush()
            for phase in ("baseline", "finetune"):
                _run(session, submission, phase, y, spec, i)
            ids[spec.name] = submission.id
    return ids


def build(data_dir: Path) -> WebDeployment:
    """The deployment: users, the DILI workspace (not yet published), contributors, submissions."""
    platform = Platform.open(
        Settings(data_dir=data_dir, embedded_worker=False, bootstrap_resamples=N_RESAMPLES)
    )
    tokens: dict[str, str] = {}
    with platform.session() as session:
        owner, tokens["owner"] = users.create_user(session, name="owner", display_name="Clinic owner")
        for name in ("alice", "bob", "carol", "mallory"):
            _user, tokens[name] = users.create_user(
                session, name=name, display_name=f"Contributor {name.title()}"
            )
        rules = Rules(
            quota=5,
            budget_pflop=100.0,
            end_date=date(2027, 2, 18),
            visibility="published",
            resources=Resources(cpu=2, memory_gb=8.59, gpu=1, gpu_memory_gb=22.49),
        )
        workspaces.create_workspace(
            platform,
            session,
            actor=owner,
            name=WORKSPACE,
            title=DILI.title,
            frame=generate("dili"),
            label_column=DILI.label_column,
            id_column=DILI.id_column,
            critical_class="3",
            classes=DILI.classes,
            rules=rules,
            feature_groups={k: list(v) for k, v in DILI.feature_groups.items()},
            description="Validate DILI severity models on an independent cohort without moving any record.",
        )
        for name in ("alice", "bob", "carol"):
            workspaces.invite(session, actor=owner, name=WORKSPACE, user_name=name)
    deployment = WebDeployment(platform, tokens)
    deployment.submissions = add_submissions(platform)
    return deployment


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDeployment]:
    """One deployment shared by a module's tests (the pages only read it)."""
    deployment = build(tmp_path_factory.mktemp("web") / "data")
    yield deployment
    deployment.platform.close()


@pytest.fixture(scope="module")
def app(web: WebDeployment) -> Any:
    return create_app(web.platform)


def user_of(web: WebDeployment, name: str) -> User:
    with web.platform.session() as session:
        user = users.get_user(session, name)
        session.expunge(user)
        return user
