"""A fine-tune that wrecks the model is caught by the paired verdict stored when the submission ends."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from cohortbench.api.deps import TOKEN_COOKIE
from cohortbench.client import Client
from cohortbench.client import Submission as ClientSubmission
from cohortbench.service import release
from cohortbench.service.public import SubmissionOwner, SubmissionPublic
from cohortbench.store.models import Run, Submission, User
from tests.service.conftest import Deployment

#: out of the box it reads class from f0 (informative in the tiny cohort); the fine-tune turns it
#: confidently wrong, the "log loss tripled" failure of a diverging fit
WRECKED_BY_FINETUNE = """\
import numpy as np


class Model:
    tuned = False

    @classmethod
    def load(cls, path):
        return cls()

    def predict_proba(self, X):
        f0 = np.asarray(X["f0"], dtype=float)
        logits = np.stack([-(f0 - c) ** 2 for c in (0.0, 1.0, 2.0)], axis=1)
        if self.tuned:
            logits = -3.0 * logits
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        return p / p.sum(axis=1, keepdims=True)

    def fine_tune(self, X, y, plan):
        self.tuned = True
        return [1.0, 2.0]

    def save(self, path):
        (path / "weights.npy").write_bytes(b"ok")
"""


def _bundle(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "cohortbench.toml").write_text(
        'name = "wrecked"\nframework = "python"\nentry = "model:Model"\nclaimed = { macro_f1 = 0.6 }\n'
    )
    (root / "model.py").write_text(WRECKED_BY_FINETUNE)
    return root


def _finished(deployment: Deployment, alice: Client, bundle: Path) -> ClientSubmission:
    """Submit `bundle` as alice, run the queue, and return the submission once it succeeded."""
    sub = alice.submit("tiny", bundle)
    deployment.run_jobs()
    assert alice.wait(sub, progress=False, timeout=60).status == "succeeded"
    return sub


def test_a_wrecking_finetune_is_flagged_by_paired_bootstrap_for_the_owner_and_one_bit_for_the_contributor(
    deployment: Deployment, tmp_path: Path
) -> None:
    alice = deployment.client("alice")
    sub = _finished(deployment, alice, _bundle(tmp_path / "b"))
    with deployment.platform.session() as session:
        stored = session.get(Submission, sub.id)
        assert stored is not None and stored.board is not None
        paired = stored.board["transfer"]
        assert paired["gain_method"] == "paired_bootstrap"
        assert paired["negative_transfer"] is True
        assert {"log_loss", "brier"} <= set(paired["worse_on"])
        assert paired["gain"]["high"] < 0  # the macro-F1 loss is significant on the paired draws
        owner = session.scalar(select(User).where(User.name == "owner"))
        contributor = session.scalar(select(User).where(User.name == "alice"))
        assert owner is not None and contributor is not None
        owned = release.submission(session, actor=owner, submission_id=sub.id, grid_g_per_kwh=400.0)
        mine = release.submission(session, actor=contributor, submission_id=sub.id, grid_g_per_kwh=400.0)
    assert isinstance(owned, SubmissionOwner) and isinstance(mine, SubmissionPublic)
    assert owned.transfer is not None and set(owned.transfer.worse_on or []) == set(paired["worse_on"])
    assert mine.transfer is not None and mine.transfer.negative_transfer is True
    assert mine.transfer.worse_on is None  # which metrics: the owner's
    deployment.http.cookies.set(TOKEN_COOKIE, deployment.tokens["owner"])
    page = deployment.http.get(f"/s/{sub.id}")
    deployment.http.cookies.clear()
    assert page.status_code == 200
    assert "paired bootstrap" in page.text and "log loss" in page.text


def test_the_model_size_its_adapter_counted_reaches_the_owner_only(
    deployment: Deployment, tmp_path: Path
) -> None:
    from tests.service.conftest import make_bundle

    alice = deployment.client("alice")
    sub = _finished(deployment, alice, make_bundle(tmp_path / "lr", framework="sklearn"))
    with deployment.platform.session() as session:
        runs = session.scalars(select(Run).where(Run.submission_id == sub.id)).all()
        # LogisticRegression on 6 features, 3 classes: 3 x 6 coefficients + 3 intercepts
        assert {r.phase: r.resources["n_parameters"] for r in runs} == {"baseline": 21, "finetune": 21}
    seen = deployment.http.get(
        f"/api/v1/submissions/{sub.id}", headers={"Authorization": f"Bearer {deployment.tokens['alice']}"}
    )
    assert seen.status_code == 200 and "n_parameters" not in seen.text


def test_an_unreadable_prediction_artifact_costs_the_verdict_not_the_submission(
    deployment: Deployment, tmp_path: Path
) -> None:
    import numpy as np

    from cohortbench.service.evaluation import _finish

    alice = deployment.client("alice")
    sub = _finished(deployment, alice, _bundle(tmp_path / "b"))
    with deployment.platform.session() as session:
        stored = session.get(Submission, sub.id)
        baseline = session.scalar(select(Run).where(Run.submission_id == sub.id, Run.phase == "baseline"))
        assert stored is not None and baseline is not None and baseline.predictions_artifact
        stored.status, stored.board = "running", None  # as if the worker died just before finishing
        location = deployment.platform.artifacts.path(baseline.predictions_artifact)
    location.chmod(0o644)
    location.write_bytes(b"not the stored predictions")
    _finish(deployment.platform, sub.id, np.zeros(1, dtype=np.int64))
    with deployment.platform.session() as session:
        again = session.get(Submission, sub.id)
        assert again is not None and again.status == "succeeded"
        assert again.board is not None and "transfer" not in again.board
