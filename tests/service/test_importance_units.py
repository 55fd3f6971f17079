"""Importance is released per feature when a workspace has a single group, under the same top-k rule."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from cohortbench.privacy.channels import TOP_GROUPS
from cohortbench.service import describe, release
from cohortbench.store.models import User, Workspace

from .conftest import Deployment, make_bundle

FEATURES = [f"f{i}" for i in range(6)]


def _regroup(deployment: Deployment, groups: dict[str, object]) -> None:
    with deployment.platform.session() as session:
        owner = session.scalars(select(User).where(User.name == "owner")).one()
        describe.update_workspace(deployment.platform, session, actor=owner, name="tiny", groups=groups)


def test_one_group_releases_the_top_features_counted_as_features(
    deployment: Deployment, tmp_path: Path
) -> None:
    _regroup(deployment, {"all": {"prefix": "f"}})
    with deployment.platform.session() as session:
        ws = session.scalars(select(Workspace)).one()
        assert release.importance_units(ws) == ("feature", FEATURES)
        policy = release.policy_of(session, ws)
        assert policy.n_groups == len(FEATURES) and policy.top_groups == TOP_GROUPS
    alice = deployment.client("alice")
    sub = alice.submit("tiny", make_bundle(tmp_path / "b"))
    deployment.run_jobs()
    body = alice._get(f"/api/v1/submissions/{sub.id}")
    assert body["status"] == "succeeded"
    assert len(body["top_groups"]) == TOP_GROUPS and set(body["top_groups"]) <= set(FEATURES)
    assert body["top_groups"][0] == "f0"  # the most informative feature of the tiny cohort


def test_two_groups_release_groups(deployment: Deployment) -> None:
    _regroup(deployment, {"strong": ["f0", "f1"], "weak": {"prefix": "f"}})
    with deployment.platform.session() as session:
        ws = session.scalars(select(Workspace)).one()
        assert release.importance_units(ws) == ("group", ["strong", "weak"])
        assert release.policy_of(session, ws).n_groups == 2
