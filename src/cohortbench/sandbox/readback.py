"""Reading files back from the sandbox without trusting what they are: plain files and folders only.

Contributor code writes the output folder, so any name in it may be a FIFO (opening it for reading
blocks until a writer comes, which never does once the tree is frozen or dead), a symlink (to the
host's files once read outside), a socket, a device or a hard link. Every entry is looked at with
lstat first and opened relative to its already opened folder with O_NOFOLLOW | O_NONBLOCK, then
checked again on the open descriptor (fstat: the same inode, still a regular file or folder), so a
name swapped in between is refused, never followed; sizes and entry counts are capped before
anything is read. Anything else raises RefusedFileError (an OSError, so existing handlers hold).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
DIR_FLAGS = FILE_FLAGS | os.O_DIRECTORY
#: folders below the root of a copied tree (the host's paths stay far from PATH_MAX)
MAX_DEPTH = 16
CHUNK = 1024 * 1024


class RefusedFileError(OSError):
    """Not a plain file or folder, swapped while read, or over its cap: nothing of it is read."""


class OverCapError(RefusedFileError):
    """A plain file or tree, but larger than its cap (in bytes or entries)."""


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "not a plain file"


def _open(name: str | Path, dir_fd: int | None, *, folder: bool) -> int:
    """Open one entry that lstat says is a plain file (or folder); refuse it if it is not, or changed."""
    seen = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    wanted = stat.S_ISDIR if folder else stat.S_ISREG
    if not wanted(seen.st_mode):
        raise RefusedFileError(f"{name} is {_kind(seen.st_mode)}")
    try:
        fd = os.open(name, DIR_FLAGS if folder else FILE_FLAGS, dir_fd=dir_fd)
    except OSError as exc:  # ELOOP (now a link), ENXIO (now a socket), ENOTDIR ...
        raise RefusedFileError(f"{name} could not be opened safely: {exc.strerror}") from exc
    opened = os.fstat(fd)
    if (opened.st_dev, opened.st_ino) != (seen.st_dev, seen.st_ino) or not wanted(opened.st_mode):
        os.close(fd)
        raise RefusedFileError(f"{name} changed while it was opened")
    if not folder and opened.st_nlink != 1:
        os.close(fd)
        raise RefusedFileError(f"{name} is a hard link ({opened.st_nlink} names)")
    return fd


def _read_fd(fd: int, name: str | Path, max_bytes: int) -> bytes:
    """At most `max_bytes` of an open regular file; RefusedFileError if it holds more."""
    size = os.fstat(fd).st_size
    if size > max_bytes:
        raise OverCapError(f"{name} is {size} bytes, over the cap of {max_bytes}")
    data = bytearray()
    while chunk := os.read(fd, min(CHUNK, max_bytes + 1 - len(data))):
        data += chunk
        if len(data) > max_bytes:
            raise OverCapError(f"{name} grew over the cap of {max_bytes} bytes while read")
    return bytes(data)


def read_file(path: Path, *, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most `max_bytes` (the last component is never followed).

    A missing file raises FileNotFoundError, as open() would.
    """
    fd = _open(path, None, folder=False)
    try:
        return _read_fd(fd, path.name, max_bytes)
    finally:
        os.close(fd)


def copy_tree(source: Path, dest: Path, *, max_bytes: int, max_entries: int) -> int:
    """Copy the folder `source` into the new folder `dest` (owned by the host: 0755 / 0644).

    Only regular files with one name and folders, at most MAX_DEPTH deep, `max_entries` entries and
    `max_bytes` in all; anything else raises RefusedFileError, and `dest` may then hold a partial
    copy (the caller discards it). Returns the bytes copied.
    """
    budget = _Budget(max_bytes, max_entries)
    fd = _open(source, None, folder=True)
    try:
        _copy_folder(fd, dest, Path(source.name), budget, depth=0)
    finally:
        os.close(fd)
    return max_bytes - budget.bytes_left


class _Budget:
    def __init__(self, max_bytes: int, max_entries: int) -> None:
        self.bytes_left, self.entries_left = max_bytes, max_entries

    def entry(self, shown: Path) -> None:
        self.entries_left -= 1
        if self.entries_left < 0:
            raise OverCapError(f"{shown}: too many files and folders")


def _copy_folder(fd: int, dest: Path, shown: Path, budget: _Budget, *, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise RefusedFileError(f"{shown} is nested more than {MAX_DEPTH} folders deep")
    dest.mkdir(mode=0o755)
    for name in sorted(os.listdir(fd)):
        budget.entry(shown / name)
        mode = os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode
        child = _open(name, fd, folder=stat.S_ISDIR(mode))
        try:
            if stat.S_ISDIR(mode):
                _copy_folder(child, dest / name, shown / name, budget, depth=depth + 1)
            else:
                data = _read_fd(child, shown / name, budget.bytes_left)
                budget.bytes_left -= len(data)
                _write_new(dest / name, data)
        finally:
            os.close(child)


def _write_new(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with contextlib.closing(os.fdopen(fd, "wb")) as handle:
        handle.write(data)
