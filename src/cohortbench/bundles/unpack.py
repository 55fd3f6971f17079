"""Turn an uploaded folder or .zip into a clean folder, refusing anything that could escape or explode.

Runs on the trusted side before any validation reads the bundle, so it trusts nothing in it:
names (zip slip, absolute paths), entry types (symlinks, devices), and sizes (declared and actual).
Refusals name the bundle's own paths only, never the server's (its upload is a temp file).
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cohortbench.bundles.manifest import MANIFEST_NAME, BundleError

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
DEFAULT_MAX_FILES = 1000
MAX_RATIO = 100  # uncompressed / compressed, for entries above RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024
MAX_DEPTH = 16
MAX_NAME_BYTES = 255  # one path component, as most filesystems allow
_CHUNK = 1024 * 1024


@dataclass
class _Budget:
    """Bytes and files left; shared by every entry of one unpack."""

    max_bytes: int
    max_files: int
    files: int = 0
    bytes: int = 0

    def add_file(self, size: int) -> None:
        self.files += 1
        self.bytes += size
        if self.files > self.max_files:
            raise BundleError(f"bundle has more than {self.max_files} files")
        if self.bytes > self.max_bytes:
            raise BundleError(f"bundle is larger than {self.max_bytes} bytes uncompressed")


def unpack_bundle(
    source: Path, dest: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, max_files: int = DEFAULT_MAX_FILES
) -> Path:
    """Copy a bundle folder or extract a .zip into `dest` (new or empty) and return the bundle's root.

    The root is `dest`, or its only subfolder when the archive wraps the bundle in one folder.
    On any refusal, `dest` is removed again and a BundleError (code invalid_bundle) says why.
    """
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BundleError(f"destination {dest} must be a new or empty folder")
    dest.mkdir(parents=True, exist_ok=True)
    budget = _Budget(max_bytes, max_files)
    try:
        if source.is_dir():
            _copy_folder(source, dest, budget)
        elif source.is_file() and zipfile.is_zipfile(source):
            _extract_zip(source, dest, budget)
        else:
            raise BundleError("the bundle must be a folder or a .zip archive")
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return _bundle_root(dest)


def _bundle_root(dest: Path) -> Path:
    children = list(dest.iterdir())
    if not (dest / MANIFEST_NAME).exists() and len(children) == 1 and children[0].is_dir():
        return children[0]
    return dest


def _safe_parts(name: str) -> tuple[str, ...]:
    """The path components of an archive member name, or a BundleError for names that could escape."""
    if "\\" in name or "\x00" in name:
        raise BundleError(f"{name!r}: backslashes and NUL are not allowed in bundle paths")
    path = PurePosixPath(name)
    if path.is_absolute() or (path.parts and path.parts[0].endswith(":")):
        raise BundleError(f"{name!r}: absolute paths are not allowed in a bundle")
    parts = tuple(p for p in path.parts if p not in ("", "."))
    if ".." in parts:
        raise BundleError(f"{name!r}: '..' is not allowed in bundle paths (zip slip)")
    if not parts or len(parts) > MAX_DEPTH:
        raise BundleError(f"{name!r}: empty or nested deeper than {MAX_DEPTH} folders")
    if any(len(p.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES for p in parts):
        raise BundleError(f"{name[:80]!r}...: a path component is longer than {MAX_NAME_BYTES} bytes")
    return parts


def _check_zip_entry(info: zipfile.ZipInfo) -> None:
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise BundleError(f"{info.filename!r}: symbolic links are not allowed in a bundle")
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise BundleError(f"{info.filename!r}: only regular files and folders are allowed in a bundle")
    if info.flag_bits & 0x1:
        raise BundleError(f"{info.filename!r}: encrypted entries are not allowed")
    if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise BundleError(f"{info.filename!r}: compression ratio above {MAX_RATIO} (zip bomb?)")


def _extract_zip(source: Path, dest: Path, budget: _Budget) -> None:
    """Extract after checking every header; a corrupt archive is a BundleError like any other refusal."""
    try:
        _extract_members(source, dest, budget)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        reason = str(exc).replace(str(source), "bundle").replace(str(dest), "bundle")
        raise BundleError(f"not a readable zip archive ({reason[:200]})") from None


def _extract_members(source: Path, dest: Path, budget: _Budget) -> None:
    with zipfile.ZipFile(source) as archive:
        infos = archive.infolist()
        if len(infos) > budget.max_files:
            raise BundleError(f"bundle has more than {budget.max_files} entries")
        if sum(i.file_size for i in infos) > budget.max_bytes:
            raise BundleError(f"bundle declares more than {budget.max_bytes} bytes uncompressed (zip bomb?)")
        seen: set[tuple[str, ...]] = set()
        for info in infos:
            _check_zip_entry(info)
            parts = _safe_parts(info.filename)
            if parts in seen:
                raise BundleError(f"{info.filename!r}: appears twice in the archive")
            seen.add(parts)
            target = dest.joinpath(*parts)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            budget.add_file(0)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                _copy_stream(archive, info, target, budget)
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise  # the server's trouble (507), not the bundle's
                reason = exc.strerror or type(exc).__name__  # strerror: no path, unlike str(exc)
                raise BundleError(f"{info.filename!r}: cannot be extracted ({reason})") from None


def _copy_stream(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: _Budget) -> None:
    """Extract one member, counting actual bytes: a lying header cannot make it write more."""
    written = 0
    with archive.open(info) as src, target.open("xb") as out:
        while chunk := src.read(_CHUNK):
            written += len(chunk)
            if written > info.file_size:
                raise BundleError(f"{info.filename!r}: larger than its declared size (zip bomb?)")
            budget.bytes += len(chunk)
            if budget.bytes > budget.max_bytes:
                raise BundleError(f"bundle is larger than {budget.max_bytes} bytes uncompressed")
            out.write(chunk)


def _copy_folder(source: Path, dest: Path, budget: _Budget) -> None:
    for root, dirs, files in os.walk(source, followlinks=False):
        rel = Path(root).relative_to(source)
        if len(rel.parts) >= MAX_DEPTH:
            raise BundleError(f"{rel}: nested deeper than {MAX_DEPTH} folders")
        for name in sorted(dirs):
            if stat.S_ISLNK(Path(root, name).lstat().st_mode):
                raise BundleError(f"{rel / name}: symbolic links are not allowed in a bundle")
            (dest / rel / name).mkdir()
        for name in sorted(files):
            _copy_regular_file(Path(root, name), dest / rel / name, rel / name, budget)


def _copy_regular_file(path: Path, target: Path, rel: Path, budget: _Budget) -> None:
    """Copy through one descriptor opened without following links, so a swapped-in link cannot slip by."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        raise BundleError(f"{rel}: symbolic links and unreadable files are not allowed in a bundle") from None
    with os.fdopen(fd, "rb") as src:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise BundleError(f"{rel}: only regular files and folders are allowed (device, FIFO or socket?)")
        if info.st_nlink > 1:
            raise BundleError(f"{rel}: hard links are not allowed in a bundle")
        budget.add_file(info.st_size)
        with target.open("xb") as out:
            shutil.copyfileobj(src, out, _CHUNK)
