"""unpack_bundle: folders and zips become clean folders; anything that could escape or explode is refused."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

import pytest

from cohortbench.bundles import BundleError, unpack_bundle

MANIFEST = b'name = "a"\nframework = "xgboost"\n'


def make_zip(path: Path, members: dict[str, bytes], *, mode: int | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            if mode is not None and name.endswith("link"):
                info.external_attr = mode << 16
            archive.writestr(info, data, zipfile.ZIP_DEFLATED)
    return path


def refused(source: Path, dest: Path, fragment: str, **kwargs: int) -> None:
    with pytest.raises(BundleError) as info:
        unpack_bundle(source, dest, **kwargs)
    assert info.value.code == "invalid_bundle" and fragment in info.value.message
    assert not dest.exists(), "a refused bundle leaves nothing behind"


def test_zip_unpacks(tmp_path: Path) -> None:
    source = make_zip(tmp_path / "b.zip", {"cohortbench.toml": MANIFEST, "weights/model.json": b"{}"})
    root = unpack_bundle(source, tmp_path / "out")
    assert (root / "cohortbench.toml").read_bytes() == MANIFEST
    assert (root / "weights" / "model.json").read_bytes() == b"{}"


def test_zip_with_one_wrapping_folder_returns_it(tmp_path: Path) -> None:
    source = make_zip(tmp_path / "b.zip", {"my-model/cohortbench.toml": MANIFEST})
    assert unpack_bundle(source, tmp_path / "out") == tmp_path / "out" / "my-model"


def test_folder_copies(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "weights").mkdir(parents=True)
    (src / "cohortbench.toml").write_bytes(MANIFEST)
    (src / "weights" / "m.txt").write_text("tree\n")
    root = unpack_bundle(src, tmp_path / "out")
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == [
        "cohortbench.toml",
        "weights",
        "weights/m.txt",
    ]


def test_zip_slip_refused(tmp_path: Path) -> None:
    source = make_zip(tmp_path / "b.zip", {"cohortbench.toml": MANIFEST, "../../evil.py": b"x"})
    refused(source, tmp_path / "out", "zip slip")
    assert not (tmp_path / "evil.py").exists()


def test_absolute_path_refused(tmp_path: Path) -> None:
    source = make_zip(tmp_path / "b.zip", {"/etc/cron.d/evil": b"x"})
    refused(source, tmp_path / "out", "absolute paths")


def test_backslash_path_refused(tmp_path: Path) -> None:
    source = make_zip(tmp_path / "b.zip", {"..\\evil.py": b"x"})
    refused(source, tmp_path / "out", "backslashes")


def test_symlink_in_zip_refused(tmp_path: Path) -> None:
    source = make_zip(tmp_path / "b.zip", {"weights/link": b"/etc/shadow"}, mode=stat.S_IFLNK | 0o777)
    refused(source, tmp_path / "out", "symbolic links")


def test_device_entry_in_zip_refused(tmp_path: Path) -> None:
    source = make_zip(tmp_path / "b.zip", {"weights/link": b""}, mode=stat.S_IFCHR | 0o666)
    refused(source, tmp_path / "out", "only regular files")


def test_symlink_in_folder_refused(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "cohortbench.toml").write_bytes(MANIFEST)
    (src / "secret").symlink_to("/etc/passwd")
    refused(src, tmp_path / "out", "symbolic links")


def test_symlinked_folder_refused(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "weights").symlink_to("/etc")
    refused(src, tmp_path / "out", "symbolic links")


def test_fifo_in_folder_refused(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    os.mkfifo(src / "pipe")
    refused(src, tmp_path / "out", "only regular files")


def test_hard_link_in_folder_refused(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (tmp_path / "outside").write_text("secret")
    os.link(tmp_path / "outside", src / "copy")
    refused(src, tmp_path / "out", "hard links")


def test_zip_bomb_by_ratio_refused(tmp_path: Path) -> None:
    source = make_zip(tmp_path / "b.zip", {"weights/zeros.json": b"\0" * (8 * 1024 * 1024)})
    refused(source, tmp_path / "out", "compression ratio")


def test_zip_bomb_by_declared_size_refused(tmp_path: Path) -> None:
    source = make_zip(tmp_path / "b.zip", {"a.txt": os.urandom(4096), "b.txt": os.urandom(4096)})
    refused(source, tmp_path / "out", "declares more than", max_bytes=6000)


def test_zip_lying_about_its_size_refused(tmp_path: Path) -> None:
    """A header declaring fewer bytes than the member really inflates to is caught while extracting."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("weights/a.txt", b"A" * 1000)
    raw = bytearray(buffer.getvalue())
    central = raw.rfind(b"PK\x01\x02")
    # shrink the uncompressed size recorded in the central directory
    raw[central + 24 : central + 28] = (10).to_bytes(4, "little")
    (tmp_path / "b.zip").write_bytes(bytes(raw))
    refused(tmp_path / "b.zip", tmp_path / "out", "a.txt")


def test_too_many_files_refused_in_zip(tmp_path: Path) -> None:
    source = make_zip(tmp_path / "b.zip", {f"f{i}.txt": b"x" for i in range(12)})
    refused(source, tmp_path / "out", "more than 10", max_files=10)


def test_too_many_files_refused_in_folder(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(12):
        (src / f"f{i}.txt").write_text("x")
    refused(src, tmp_path / "out", "more than 10 files", max_files=10)


def test_duplicate_member_refused(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "b.zip", "w") as archive:
        archive.writestr("a.txt", b"1")
        with pytest.warns(UserWarning):
            archive.writestr("a.txt", b"2")
    refused(tmp_path / "b.zip", tmp_path / "out", "twice")


def test_not_a_bundle_refused(tmp_path: Path) -> None:
    (tmp_path / "model.tar").write_bytes(b"not a zip")
    refused(tmp_path / "model.tar", tmp_path / "out", "folder or a .zip")


def test_destination_must_be_empty(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("keep me")
    source = make_zip(tmp_path / "b.zip", {"cohortbench.toml": MANIFEST})
    with pytest.raises(BundleError, match="new or empty"):
        unpack_bundle(source, tmp_path / "out")
    assert (tmp_path / "out" / "x").read_text() == "keep me"


def test_refusals_never_name_the_server_side_file(tmp_path: Path) -> None:
    """An API upload is a server temp file: its name and folder must not reach the contributor."""
    secret = tmp_path / "srv-private-0xdeadbeef"
    secret.mkdir()
    good = make_zip(tmp_path / "good.zip", {"cohortbench.toml": MANIFEST * 40})
    corrupt = bytearray(good.read_bytes())
    corrupt[60:70] = b"\xff" * 10
    cases = {
        "not-zip": b"plain text",
        "corrupt": bytes(corrupt),
        "long-name": make_zip(tmp_path / "long.zip", {"x" * 300: b"1"}).read_bytes(),
    }
    for kind, payload in cases.items():
        source = secret / f"cohortbench-upload-{kind}.zip"
        source.write_bytes(payload)
        with pytest.raises(BundleError) as info:
            unpack_bundle(source, tmp_path / f"out-{kind}")
        assert "srv-private" not in info.value.message and "cohortbench-upload" not in info.value.message
