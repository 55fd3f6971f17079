"""Reading back from the sandbox on the host alone: plain files and folders only, capped, never blocking."""

from __future__ import annotations

import os
import socket
import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cohortbench.sandbox import outputs, readback
from cohortbench.sandbox.errors import OutputTooLargeError


def _tree(root: Path) -> Path:
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "model.bin").write_bytes(b"w" * 100)
    (root / "sub" / "deeper" / "head.txt").write_text("head")
    return root


def test_a_plain_tree_is_copied_with_the_host_s_modes(tmp_path: Path) -> None:
    source = _tree(tmp_path / "saved")
    (source / "model.bin").chmod(0o600)
    copied = readback.copy_tree(source, tmp_path / "copy", max_bytes=104, max_entries=4)
    assert copied == 104
    assert (tmp_path / "copy" / "sub" / "deeper" / "head.txt").read_text() == "head"
    assert (tmp_path / "copy" / "model.bin").stat().st_mode & 0o777 == 0o644


def _sock(path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))


HOSTILE: dict[str, Callable[[Path], None]] = {
    "fifo": lambda p: os.mkfifo(p),
    "symlink": lambda p: p.symlink_to("/etc/passwd"),
    "dangling_symlink": lambda p: p.symlink_to("/nowhere"),
    "symlinked_folder": lambda p: p.symlink_to("/etc"),
    "socket": _sock,
    "hard_link": lambda p: os.link(p.parent.parent / "model.bin", p),
}
#: like /dev/null (making one needs root)
DEVICE = pytest.param(
    lambda p: os.mknod(p, 0o600 | stat.S_IFCHR, os.makedev(1, 3)),
    id="device",
    marks=pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root"),
)


@pytest.mark.parametrize("make", [*HOSTILE.values(), DEVICE], ids=[*HOSTILE.keys(), "device"])
def test_anything_but_plain_files_and_folders_is_refused_at_once(
    tmp_path: Path, make: Callable[[Path], None]
) -> None:
    source = _tree(tmp_path / "saved")
    make(source / "sub" / "odd")
    start = time.monotonic()
    with pytest.raises(readback.RefusedFileError):
        readback.copy_tree(source, tmp_path / "copy", max_bytes=10**6, max_entries=100)
    assert time.monotonic() - start < 1.0


@pytest.mark.parametrize(("max_bytes", "max_entries"), [(103, 100), (10**6, 3)], ids=["bytes", "entries"])
def test_a_tree_over_its_caps_is_refused(tmp_path: Path, max_bytes: int, max_entries: int) -> None:
    with pytest.raises(readback.OverCapError):
        readback.copy_tree(
            _tree(tmp_path / "saved"), tmp_path / "copy", max_bytes=max_bytes, max_entries=max_entries
        )


def test_a_tree_nested_too_deep_is_refused(tmp_path: Path) -> None:
    deep = tmp_path / "saved" / "/".join("d" * (readback.MAX_DEPTH + 2))
    deep.mkdir(parents=True)
    with pytest.raises(readback.RefusedFileError, match="deep"):
        readback.copy_tree(tmp_path / "saved", tmp_path / "copy", max_bytes=10, max_entries=100)


def test_the_root_must_be_a_real_folder(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "saved").symlink_to(tmp_path / "real")
    with pytest.raises(readback.RefusedFileError):
        readback.copy_tree(tmp_path / "saved", tmp_path / "copy", max_bytes=10, max_entries=10)


def test_output_files_that_are_fifos_or_links_are_never_opened(tmp_path: Path) -> None:
    """A FIFO would block open() for good once the sandbox is frozen or dead: refused instead."""
    os.mkfifo(tmp_path / "resources.json")
    (tmp_path / "losses.json").symlink_to("/etc/hostname")
    os.mkfifo(tmp_path / "predictions.npy")
    start = time.monotonic()
    for name in ("resources.json", "losses.json"):
        with pytest.raises(OutputTooLargeError):
            outputs.read_json(tmp_path / name)
    with pytest.raises(Exception, match="not a regular file"):
        outputs.read_array(tmp_path / "predictions.npy", max_bytes=100)
    assert time.monotonic() - start < 1.0
    with pytest.raises(FileNotFoundError):
        readback.read_file(tmp_path / "missing.json", max_bytes=10)


def test_read_file_is_capped(tmp_path: Path) -> None:
    (tmp_path / "big.json").write_text("[1]" + " " * 100)
    assert readback.read_file(tmp_path / "big.json", max_bytes=103) == b"[1]" + b" " * 100
    with pytest.raises(readback.OverCapError):
        readback.read_file(tmp_path / "big.json", max_bytes=102)
