"""A small real deployment: SQLite (or PostgreSQL), a tiny cohort, users of each role, tiny bundles."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io
from fastapi.testclient import TestClient
from safetensors.numpy import save_file
from sklearn.linear_model import LogisticRegression

from cohortbench.api import create_app
from cohortbench.client import Client
from cohortbench.service import Platform, Settings, users, workspaces
from cohortbench.workspaces import Rules

CLASSES = ("low", "mid", "high")
SOFTMAX = Path(__file__).resolve().parents[2] / "examples" / "templates" / "softmax.py"


def tiny_cohort(seed: int = 0, n_per_class: int = 80) -> pd.DataFrame:
    """3 classes, 6 informative features with long decimals (so a leaked value is recognisable)."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(3), n_per_class)
    x = rng.normal(size=(labels.size, 6)) + labels[:, None] * np.array([1.0, 0.8, 0.5, 0.0, 0.0, 0.3])
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(6)])
    frame.insert(0, "label", [CLASSES[i] for i in labels])
    frame.insert(0, "pid", [f"X{i:04d}" for i in range(labels.size)])
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def make_bundle(
    folder: Path, *, seed: int = 1, name: str = "tiny-lr", claimed: float = 0.9, framework: str = "python"
) -> Path:
    """A bundle holding a logistic regression pretrained on a shifted copy of the tiny cohort.

    By default the "python" framework: examples/templates/softmax.py (a numpy softmax regression)
    with the fitted coefficients, fine-tuned by gradient descent. `framework="sklearn"` writes the
    estimator itself as a zero-code skops bundle, refitted by its fine-tune. The service tests test
    the service, so they default to python: a sandbox that loads skops imports scikit-learn and
    SciPy, 2.7 s of CPU, more than the whole of a tiny python submission.
    """
    frame = tiny_cohort(seed)
    x = frame[[f"f{i}" for i in range(6)]].to_numpy() + 0.3
    y = np.array([CLASSES.index(v) for v in frame["label"]])
    estimator = LogisticRegression(max_iter=300).fit(x, y)
    (folder / "weights").mkdir(parents=True)
    if framework == "sklearn":
        skops.io.dump(estimator, folder / "weights" / "model.skops")
        manifest, plan = 'framework = "sklearn"', "epochs = 1"
    else:
        shutil.copyfile(SOFTMAX, folder / "model.py")
        arrays = {"mean": np.zeros(6), "scale": np.ones(6), "bias": estimator.intercept_}
        save_file(
            {**arrays, "weight": np.ascontiguousarray(estimator.coef_.T)},
            folder / "weights" / "model.safetensors",
        )
        manifest, plan = 'framework = "python"\nentry = "model:Model"', "epochs = 20\nlearning_rate = 0.2"
    (folder / "cohortbench.toml").write_text(
        f'name = "{name}"\n{manifest}\nclaimed = {{ macro_f1 = {claimed} }}\n[plan]\n{plan}\nseed = 0\n'
    )
    return folder


@dataclass
class Deployment:
    platform: Platform
    http: TestClient
    tokens: dict[str, str]
    cohort: pd.DataFrame

    def client(self, who: str) -> Client:
        return Client("http://testserver", self.tokens[who], http=self.http)

    def run_jobs(self) -> None:
        from cohortbench.service.worker import make_worker

        worker = make_worker(self.platform, worker_id="test-worker")
        while worker.run_once():
            pass


@dataclass(frozen=True)
class Template:
    """A deployment's data directory built once per test session, and the tokens of its users."""

    data_dir: Path
    tokens: dict[str, str]


def _settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, bootstrap_resamples=200, importance_repeats=1, embedded_worker=False)


@pytest.fixture(scope="session")
def deployment_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """Users of each role and the tiny workspace, created once: migrating, validating and splitting
    the cohort and building its EDA cost seconds that every deployment test would otherwise repeat."""
    data_dir = tmp_path_factory.mktemp("deployment-template") / "data"
    platform = Platform.open(_settings(data_dir))
    tokens: dict[str, str] = {}
    with platform.session() as session:
        owner, tokens["owner"] = users.create_user(session, name="owner", is_admin=True)
        for name in ("alice", "bob", "victor"):
            _user, tokens[name] = users.create_user(session, name=name)
        workspaces.create_workspace(
            platform,
            session,
            actor=owner,
            name="tiny",
            title="Tiny cohort",
            frame=tiny_cohort(),
            label_column="label",
            id_column="pid",
            critical_class="high",
            classes=CLASSES,
            holdout_fraction=0.25,
            rules=Rules(quota=3, visibility="published"),
        )
        workspaces.invite(session, actor=owner, name="tiny", user_name="alice")
        workspaces.invite(session, actor=owner, name="tiny", user_name="bob")
        workspaces.invite(session, actor=owner, name="tiny", user_name="victor", role="viewer")
    platform.close()
    return Template(data_dir, tokens)


@pytest.fixture
def deployment(deployment_template: Template, tmp_path: Path) -> Iterator[Deployment]:
    """A copy of the session's template deployment, for this test only (tests may write to it)."""
    data_dir = tmp_path / "data"
    shutil.copytree(deployment_template.data_dir, data_dir)
    platform = Platform.open(_settings(data_dir))
    with TestClient(create_app(platform)) as http:
        yield Deployment(platform, http, dict(deployment_template.tokens), tiny_cohort())
    platform.close()
