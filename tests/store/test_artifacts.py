"""The content-addressed artifact folder: round trips, deduplication, determinism, corruption."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from cohortbench.errors import NotFoundError, ValidationError
from cohortbench.store.artifacts import ArtifactCorruptError, ArtifactStore


def _tree(root: Path, mtime: int) -> Path:
    (root / "weights").mkdir(parents=True)
    (root / "cohortbench.toml").write_text('name = "m"\n')
    (root / "weights" / "model.bin").write_bytes(bytes(range(256)) * 50)
    (root / "model.py").write_text("class Model: ...\n")
    for path in [*root.rglob("*"), root]:
        os.utime(path, (mtime, mtime))
    return root


def test_bytes_round_trip_under_their_sha256(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "artifacts")
    data = b"predictions" * 1000
    sha = store.put_bytes(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert store.read_bytes(sha) == data
    assert store.put_bytes(data) == sha  # stored once
    assert [p.name for p in (tmp_path / "artifacts").rglob("*") if p.is_file()] == [sha]


def test_put_file_matches_put_bytes(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "a")
    source = tmp_path / "x.parquet"
    source.write_bytes(b"\x00\x01" * 4096)
    assert store.put_file(source) == store.put_bytes(source.read_bytes())


def test_folders_tar_deterministically_and_unpack(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "a")
    first = store.put_dir(_tree(tmp_path / "one", mtime=1_000_000))
    second = store.put_dir(_tree(tmp_path / "two", mtime=2_000_000))
    assert first == second
    out = store.get_dir(first, tmp_path / "out")
    assert (out / "weights" / "model.bin").read_bytes() == bytes(range(256)) * 50
    assert (out / "model.py").read_text() == "class Model: ...\n"


def test_a_corrupted_artifact_is_refused(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "a")
    sha = store.put_bytes(b"weights")
    location = store.path(sha)
    location.chmod(0o644)
    location.write_bytes(b"tampered")
    with pytest.raises(ArtifactCorruptError, match=sha):
        store.read_bytes(sha)


def test_bad_and_unknown_names(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "a")
    with pytest.raises(ValidationError, match="sha256"):
        store.path("../../etc/passwd")
    with pytest.raises(NotFoundError):
        store.open("0" * 64)
    assert not store.exists("0" * 64)


def test_no_temp_files_are_left_behind(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "a")
    store.put_bytes(b"x")
    store.put_dir(_tree(tmp_path / "t", mtime=0))
    assert not list((tmp_path / "a").glob(".incoming-*"))
