"""The guarded exit seen from the API: every route a member reads has a public model, and a non-owner
never receives an owner model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from cohortbench.service import public

from .conftest import Deployment, make_bundle

#: operations only the owner or an administrator can call (they answer 403/404 to anyone else)
OWNER_ONLY = {
    ("patch", "/api/v1/workspaces/{name}/rules"),
    ("patch", "/api/v1/workspaces/{name}"),
    ("post", "/api/v1/workspaces/{name}/publish"),
    ("post", "/api/v1/workspaces/{name}/members"),
    ("get", "/api/v1/workspaces/{name}/members"),
    ("post", "/api/v1/users"),
    ("get", "/api/v1/workspaces/{name}/audit"),
    ("get", "/api/v1/audit/verify"),
    ("get", "/api/v1/submissions/{submission_id}/runs/{phase}/log"),
    ("post", "/api/v1/workspaces/{name}/versions"),
    ("get", "/api/v1/workspaces/{name}/drift"),
    ("post", "/api/v1/workspaces/{name}/reruns"),
    ("get", "/api/v1/workspaces/{name}/holdup"),
    ("post", "/api/v1/workspaces/{name}/label-audit"),
}
#: what a contributor reads on each GET route, as the public model its JSON must parse as
PUBLIC_GETS: dict[str, type[BaseModel]] = {
    "/api/v1/workspaces": public.WorkspaceList,
    "/api/v1/workspaces/tiny": public.WorkspaceCardOut,
    "/api/v1/workspaces/tiny/eda": public.EdaOut,
    "/api/v1/workspaces/tiny/schema": public.SchemaTwinOut,
    "/api/v1/workspaces/tiny/leaderboard": public.LeaderboardOut,
    "/api/v1/workspaces/tiny/leaderboard?version=1": public.LeaderboardOut,
    "/api/v1/workspaces/tiny/versions": public.CohortVersionList,
    "/api/v1/workspaces/tiny/submissions": public.SubmissionList,
    "/api/v1/submissions/{id}": public.SubmissionPublic,
    "/api/v1/me": public.MeOut,
}


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if path.startswith("/api/"):
                yield method, path, op


def test_every_member_route_declares_a_named_public_model(deployment: Deployment) -> None:
    spec = deployment.http.get("/openapi.json").json()
    for method, path, op in _operations(spec):
        if (method, path) in OWNER_ONLY:
            continue
        ok = next(code for code in op["responses"] if code.startswith("2"))
        schema = op["responses"][ok]["content"]["application/json"]["schema"]
        refs = [schema] if "$ref" in schema else schema.get("anyOf", [])
        assert refs and all("$ref" in r for r in refs), (method, path, schema)
        for ref in refs:
            assert (
                not ref["$ref"].endswith("Owner")
                or path.startswith("/api/v1/submissions/{submission_id}")
                or (path.endswith("/submissions") and method == "post")
            ), (method, path)


def _audiences(tree: Any) -> Iterator[str]:
    if isinstance(tree, dict):
        if "audience" in tree:
            yield tree["audience"]
        for value in tree.values():
            yield from _audiences(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _audiences(value)


@pytest.mark.sandbox
def test_a_contributor_only_ever_receives_public_models(deployment: Deployment, tmp_path: Path) -> None:
    alice = deployment.client("alice")
    sub = alice.submit("tiny", make_bundle(tmp_path / "b"))
    deployment.run_jobs()
    auth = {"Authorization": f"Bearer {deployment.tokens['alice']}"}
    for path, model in PUBLIC_GETS.items():
        response = deployment.http.get(path.format(id=sub.id), headers=auth)
        assert response.status_code == 200, (path, response.text)
        body = response.json()
        model.model_validate(body)  # extra fields forbidden: an owner field would fail here
        assert set(_audiences(body)) <= {"contributor"}, path
    for method, path in sorted(OWNER_ONLY):
        url = path.format(name="tiny", submission_id=sub.id, phase="baseline")
        response = deployment.http.request(method.upper(), url, headers=auth, json={})
        assert response.status_code in (403, 404, 422), (method, path, response.status_code)
    owner = {"Authorization": f"Bearer {deployment.tokens['owner']}"}
    exact = deployment.http.get(f"/api/v1/submissions/{sub.id}", headers=owner).json()
    public.SubmissionOwner.model_validate(exact)


@pytest.mark.sandbox
def test_co2e_follows_the_deployments_grid_intensity(deployment: Deployment, tmp_path: Path) -> None:

    alice = deployment.client("alice")
    sub = alice.submit("tiny", make_bundle(tmp_path / "b"))
    deployment.run_jobs()
    owner = {"Authorization": f"Bearer {deployment.tokens['owner']}"}
    before = deployment.http.get(f"/api/v1/submissions/{sub.id}", headers=owner).json()
    deployment.platform.settings = deployment.platform.settings.model_copy(update={"grid_g_per_kwh": 1000.0})
    after = deployment.http.get(f"/api/v1/submissions/{sub.id}", headers=owner).json()
    assert before["energy_kwh"] == after["energy_kwh"] > 0
    assert after["co2e_g"] == pytest.approx(after["energy_kwh"] * 1000.0)
    assert before["co2e_g"] == pytest.approx(before["energy_kwh"] * 250.0)
