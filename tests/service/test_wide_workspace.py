"""A wide (1,200-gene) workspace: grouped importance only, and the schema twin as before."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from cohortbench.cohorts import make_transcriptomics, transcriptomics_spec
from cohortbench.privacy.twin import SchemaTwin
from cohortbench.service import Platform, Settings, owner, users, workspaces
from cohortbench.service.phase_request import PER_FEATURE_IMPORTANCE_MAX, build_request
from cohortbench.store.models import Submission, User

GENES, PATIENTS = 1_200, 120


@pytest.fixture
def wide(tmp_path: Path) -> Iterator[tuple[Platform, User]]:
    platform = Platform.open(
        Settings(data_dir=tmp_path / "data", embedded_worker=False, importance_repeats=2)
    )
    spec = transcriptomics_spec(GENES, PATIENTS)
    with platform.session() as session:
        admin, _token = users.create_user(session, name="owner", is_admin=True)
        workspaces.create_workspace(
            platform, session, actor=admin, name="wide", title="wide", frame=make_transcriptomics(GENES, PATIENTS),
            label_column=spec.label_column, id_column=spec.id_column, critical_class="Fast",
            classes=spec.classes, feature_groups={k: list(v) for k, v in spec.feature_groups.items()},
        )  # fmt: skip
    yield platform, admin
    platform.close()


def test_importance_is_per_pathway_only_above_the_per_feature_limit(wide: tuple[Platform, User]) -> None:
    platform, _admin = wide
    assert GENES > PER_FEATURE_IMPORTANCE_MAX
    with platform.session() as session:
        ws = workspaces.get_workspace(session, users.get_user(session, "owner"), "wide")[0]
        train, holdout = workspaces.load_cohort(platform, workspaces.latest_version(session, ws), ws)
        sub = Submission(id=1, plan={})
        request = build_request(ws, sub, "baseline", Path("/nonexistent"), train, holdout, 1.0, platform)
    assert {p.kind for p in request.permutations} == {"group"}
    assert len(request.permutations) == len(ws.feature_groups) * 2
    narrow = {"a": ["gene_00000", "gene_00001"]}
    with platform.session() as session:
        ws = workspaces.get_workspace(session, users.get_user(session, "owner"), "wide")[0]
        ws.feature_groups = narrow
        few = build_request(ws, sub, "baseline", Path("/nonexistent"), train[["gene_00000", "gene_00001"]],
                       holdout[["gene_00000", "gene_00001"]], 1.0, platform)  # fmt: skip
        session.rollback()
    assert {p.kind for p in few.permutations} == {"group", "feature"}


def test_schema_twin_is_the_twin_of_the_train_and_holdout_rows(wide: tuple[Platform, User]) -> None:
    """The twin now reads the stored version once; it must equal the twin of train + holdout joined."""
    platform, admin = wide
    with platform.session() as session:
        twin = owner.schema_twin(platform, session, actor=admin, name="wide")
        ws = workspaces.get_workspace(session, admin, "wide")[0]
        train, holdout = workspaces.load_cohort(platform, workspaces.latest_version(session, ws), ws)
    before = SchemaTwin.from_frame(
        pd.concat([train, holdout], ignore_index=True), id_column=ws.id_column,
        label_column=ws.label_column, classes=list(ws.classes), feature_groups=ws.feature_groups,
    )  # fmt: skip
    assert twin == before and len(twin.columns) == GENES


def test_the_stored_version_is_the_frame_digest_of_the_cohort(wide: tuple[Platform, User]) -> None:
    """The version is now streamed to the store from a file: same bytes, same content hash as before."""
    from cohortbench.workspaces import frame_digest, validate_cohort

    platform, admin = wide
    spec = transcriptomics_spec(GENES, PATIENTS)
    table = validate_cohort(
        make_transcriptomics(GENES, PATIENTS), id_column=spec.id_column, label_column=spec.label_column
    )
    sha, data = frame_digest(table.frame)
    with platform.session() as session:
        ws = workspaces.get_workspace(session, admin, "wide")[0]
        version = workspaces.latest_version(session, ws)
    assert version.sha256 == version.data_artifact == sha
    assert platform.artifacts.path(version.data_artifact).read_bytes() == data
