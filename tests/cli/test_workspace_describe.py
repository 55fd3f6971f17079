"""Feature groups (by name, by prefix, derived from prefixes) and `workspace create/update
--description --groups`."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cohortbench.cli.app import app
from cohortbench.errors import ConflictError, ValidationError
from cohortbench.service import describe
from cohortbench.store.models import AuditEntry, User, Workspace
from cohortbench.workspaces import groups_by_prefix, groups_from_spec
from tests.service.conftest import Deployment, make_bundle, tiny_cohort

LIVER = ["ast_u_l", "alt_u_l", "ast_ratio", "alt_peak", "age", "bmi_z"]


def test_groups_follow_shared_prefixes_and_fall_back_to_one_per_feature() -> None:
    assert groups_by_prefix(LIVER) == {
        "ast": ["ast_u_l", "ast_ratio"],
        "alt": ["alt_u_l", "alt_peak"],
        "other": ["age", "bmi_z"],
    }
    assert groups_by_prefix(["f0", "f1", "x_1"]) == {"f0": ["f0"], "f1": ["f1"], "x_1": ["x_1"]}


def test_groups_from_a_spec_by_name_and_prefix_with_the_rest_in_other() -> None:
    spec = {"groups": {"liver": {"prefix": "a"}, "body": ["bmi_z"]}}
    assert groups_from_spec(spec, LIVER)["liver"] == ["ast_u_l", "alt_u_l", "ast_ratio", "alt_peak", "age"]
    spec = {"groups": {"liver": {"prefix": "a"}, "aged": ["age"]}}
    assert groups_from_spec(spec, LIVER)["aged"] == ["age"]  # a named column is not the prefix group's
    spec = {"groups": {"liver": {"prefix": "al"}, "body": ["bmi_z"]}}
    assert groups_from_spec(spec, LIVER) == {
        "liver": ["alt_u_l", "alt_peak"],
        "body": ["bmi_z"],
        "other": ["ast_u_l", "ast_ratio", "age"],
    }


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({"a": ["nope"]}, "unknown columns: nope"),
        ({"a": ["age"], "b": ["age"]}, "'age' is in two feature groups"),
        ({"a": {"prefix": "zzz"}}, "has no columns"),
        ({"a": 3}, "expected a list of column names"),
        ({}, "expected a table"),
    ],
)
def test_a_bad_groups_spec_names_the_problem(spec: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        groups_from_spec(spec, LIVER)


def test_create_and_update_with_description_and_groups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COHORTBENCH_DATA_DIR", str(tmp_path / "data"))
    table = tmp_path / "cohort.csv"
    tiny_cohort().to_csv(table, index=False)
    groups = tmp_path / "groups.toml"
    groups.write_text('[groups]\nstrong = ["f0", "f1"]\nweak = { prefix = "f" }\n')
    runner = CliRunner()
    args = ["workspace", "create", "tiny", "--data", str(table), "--label", "label", "--critical", "high"]
    args += ["--id", "pid", "--description", "Three classes of a toy cohort.", "--groups", str(groups)]
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    assert "strong (2), weak (4)" in done.output
    groups.write_text('a = ["f0"]\n')
    done = runner.invoke(
        app, ["workspace", "update", "tiny", "--description", "New text.", "--groups", str(groups)]
    )
    assert done.exit_code == 0, done.output
    assert "a (1), other (5)" in done.output
    done = runner.invoke(app, ["workspace", "update", "tiny"])
    assert done.exit_code != 0
    from cohortbench.cli.common import open_platform

    platform = open_platform(tmp_path / "data")
    with platform.session() as session:
        ws = session.scalars(select(Workspace)).one()
        assert ws.description == "New text." and ws.feature_groups == {
            "a": ["f0"],
            "other": [f"f{i}" for i in range(1, 6)],
        }
        actions = [e.action for e in session.scalars(select(AuditEntry))]
        assert "workspace.update" in actions
    platform.close()


def test_groups_are_fixed_once_a_submission_exists(deployment: Deployment, tmp_path: Path) -> None:
    deployment.client("alice").submit("tiny", make_bundle(tmp_path / "b"))
    with deployment.platform.session() as session:
        owner = session.get(User, session.scalars(select(Workspace)).one().owner_id)
        assert owner is not None
        with pytest.raises(ConflictError, match="can no longer change"):
            describe.update_workspace(
                deployment.platform, session, actor=owner, name="tiny", groups={"a": ["f0"]}
            )
        ws = describe.update_workspace(
            deployment.platform, session, actor=owner, name="tiny", description="ok"
        )
        assert ws.description == "ok"


def test_the_api_updates_description_and_groups_for_owners_only(deployment: Deployment) -> None:
    body = {"description": "Toy.", "feature_groups": {"strong": ["f0", "f1"], "rest": {"prefix": "f"}}}
    denied = deployment.http.patch(
        "/api/v1/workspaces/tiny",
        json=body,
        headers={"Authorization": f"Bearer {deployment.tokens['alice']}"},
    )
    assert denied.status_code == 403
    done = deployment.http.patch(
        "/api/v1/workspaces/tiny",
        json=body,
        headers={"Authorization": f"Bearer {deployment.tokens['owner']}"},
    )
    assert done.status_code == 200, done.text
    assert done.json()["description"] == "Toy." and done.json()["feature_groups"] == {"strong": 2, "rest": 4}
    bad = deployment.http.patch(
        "/api/v1/workspaces/tiny",
        json={"feature_groups": {"a": ["nope"]}},
        headers={"Authorization": f"Bearer {deployment.tokens['owner']}"},
    )
    assert bad.status_code in (400, 422) and "nope" in bad.text
