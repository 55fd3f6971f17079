"""Content-addressed artifact folder: bundles, weights, predictions and cohort files, named by sha256.

Writes are atomic (a temp file in the same folder, then rename), so a crash never leaves a
half-written artifact under a real name; reads verify the hash, so a corrupted file is refused.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from cohortbench.errors import NotFoundError, ValidationError

__all__ = ["ArtifactCorruptError", "ArtifactStore"]

_SHA = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20


class ArtifactCorruptError(ValidationError):
    """A stored artifact no longer matches its sha256."""

    code = "artifact_corrupt"


class ArtifactStore:
    """Artifacts under `root/<sha[:2]>/<sha>`; identical content is stored once."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def put_bytes(self, data: bytes) -> str:
        """Store `data`; return its sha256."""
        return self._put_stream(io.BytesIO(data))

    def put_file(self, path: Path) -> str:
        """Store a copy of the file at `path`; return its sha256."""
        with Path(path).open("rb") as handle:
            return self._put_stream(handle)

    def put_dir(self, folder: Path) -> str:
        """Store a folder as a deterministic tar (sorted names, zeroed owners and times)."""
        folder = Path(folder)
        if not folder.is_dir():
            raise ValidationError(f"not a folder: {folder}")
        with tempfile.SpooledTemporaryFile(max_size=64 * _CHUNK) as buffer:
            with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
                for path in _walk_sorted(folder):
                    _add_member(tar, path, path.relative_to(folder).as_posix())
            buffer.seek(0)
            return self._put_stream(buffer)  # type: ignore[arg-type]

    def exists(self, sha: str) -> bool:
        return self._location(sha).is_file()

    def path(self, sha: str) -> Path:
        """Where the artifact lies (not re-verified: use `open` or `read_bytes` to read it safely)."""
        location = self._location(sha)
        if not location.is_file():
            raise NotFoundError(f"artifact {sha} not found")
        return location

    def open(self, sha: str) -> BinaryIO:
        """A binary reader over the artifact, after checking that its content matches `sha`."""
        location = self.path(sha)
        actual = _hash_file(location)
        if actual != sha:
            raise ArtifactCorruptError(f"artifact {sha} is corrupt (its content hashes to {actual})")
        return location.open("rb")

    def read_bytes(self, sha: str) -> bytes:
        with self.open(sha) as handle:
            return handle.read()

    def get_dir(self, sha: str, dest: Path) -> Path:
        """Unpack a `put_dir` artifact into `dest` (refusing links, devices and paths outside it)."""
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        with self.open(sha) as handle, tarfile.open(fileobj=handle, mode="r:") as tar:
            tar.extractall(dest, filter="data")
        return dest

    def _location(self, sha: str) -> Path:
        if not isinstance(sha, str) or not _SHA.fullmatch(sha):
            raise ValidationError(f"not a sha256 hex digest: {sha!r}")
        return self.root / sha[:2] / sha

    def _put_stream(self, stream: BinaryIO) -> str:
        digest = hashlib.sha256()
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in iter(lambda: stream.read(_CHUNK), b""):
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            final = self._location(sha)
            final.parent.mkdir(exist_ok=True)
            tmp.chmod(0o444)
            tmp.replace(final)
            return sha
        finally:
            tmp.unlink(missing_ok=True)


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _walk_sorted(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*"), key=lambda p: p.relative_to(folder).as_posix()):
        if path.is_symlink():
            raise ValidationError(f"links are not allowed in an artifact folder: {path}")
        yield path


def _add_member(tar: tarfile.TarFile, path: Path, name: str) -> None:
    info = _tar_info(path, name)
    if info.isdir():
        tar.addfile(info)
        return
    with path.open("rb") as handle:
        tar.addfile(info, handle)


def _tar_info(path: Path, name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
    if path.is_dir():
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        return info
    stat = path.stat()
    info.size = stat.st_size
    info.mode = 0o755 if stat.st_mode & 0o111 else 0o644
    return info
