"""Property-based walk of every OpenAPI operation (schemathesis, in-process) as the deployment's owner.

Whatever the generated path, query, JSON or multipart body, the API answers without a 5xx, and every
error leaves as problem+json. Examples per operation stay few so the walk takes seconds, not minutes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from cohortbench.api import create_app
from cohortbench.service import Platform, Settings, users, workspaces
from cohortbench.workspaces import Rules
from tests.service.conftest import CLASSES, tiny_cohort

EXAMPLES = 12


@pytest.fixture(scope="module")
def owner_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    """One tiny deployment for the whole walk (the owner is an administrator), with its token."""
    settings_ = Settings(
        data_dir=tmp_path_factory.mktemp("fuzz") / "data",
        embedded_worker=False,
        max_upload_bytes=256 * 1024,
    )
    platform = Platform.open(settings_)
    with platform.session() as session:
        owner, token = users.create_user(session, name="owner", is_admin=True)
        users.create_user(session, name="alice")
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
            rules=Rules(quota=3),
        )
    yield create_app(platform), token
    platform.close()


@pytest.fixture(scope="module")
def api_schema(owner_app: tuple[Any, str]) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", owner_app[0])


def _check(case: Any, token: str) -> None:
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    where = f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
    assert response.status_code < 500, where
    if response.status_code >= 400:
        content_type = ",".join(response.headers.get("content-type", []))
        assert content_type.startswith("application/problem+json"), where
        assert response.json()["status"] == response.status_code, where


def test_no_operation_answers_5xx_or_a_non_problem_error(api_schema: Any, owner_app: tuple[Any, str]) -> None:
    """Each operation, with data that fits its schema and data that does not (negative mode).

    Driven through hypothesis directly (schemathesis' pytest plugin does not run under pytest 9).
    """
    token = owner_app[1]
    failures, walked = [], 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                phases=(Phase.explicit, Phase.generate),
                suppress_health_check=list(HealthCheck),
            )
            def walk(case: Any) -> None:
                _check(case, token)

            try:
                walk()
            except Unsatisfiable:  # nothing to get wrong (e.g. GET /me in negative mode)
                continue
            except Exception as exc:  # an assertion, or an exception the app let out (a 500 in production)
                failures.append(
                    f"[{mode.value}] {operation.label}: {type(exc).__name__}: {exc}".splitlines()[0]
                )
            walked += 1
    assert walked >= 20, f"only {walked} operation walks: did the schema lose its routes?"
    assert not failures, "\n".join(failures)


def test_the_walk_covers_the_upload_routes(api_schema: Any) -> None:
    """The multipart routes read their body themselves; their OpenAPI still says what they take."""
    paths = api_schema.raw_schema["paths"]
    for path, method, file_field in (
        ("/api/v1/workspaces", "post", "cohort"),
        ("/api/v1/workspaces/{name}/submissions", "post", "bundle"),
    ):
        body = paths[path][method]["requestBody"]["content"]["multipart/form-data"]["schema"]
        assert body["properties"][file_field]["format"] == "binary"
        assert file_field in body["required"]
