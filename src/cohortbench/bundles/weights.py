"""Weights formats per framework, recognised by their bytes, and the pickle refusal.

Checked on the trusted side without loading anything: a suffix alone proves nothing (a pickle
renamed to .skops is still a pickle), so each file's first bytes must match its format.
"""

from __future__ import annotations

import json
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

PICKLE_SUFFIXES = frozenset({".pkl", ".pickle", ".joblib", ".pt", ".pth", ".ckpt", ".dill", ".sav", ".p"})
#: weights suffixes each framework loads; python bundles read their own safe files
FRAMEWORK_SUFFIXES: dict[str, frozenset[str]] = {
    "sklearn": frozenset({".skops"}),
    "xgboost": frozenset({".json", ".ubj"}),
    "lightgbm": frozenset({".txt"}),
    "torch": frozenset({".safetensors"}),
    "onnx": frozenset({".onnx"}),
    "python": frozenset({".safetensors", ".json", ".ubj", ".txt", ".skops", ".onnx", ".npy", ".npz", ".csv"}),
}
#: extra files a code bundle may carry beside weights (read by its own model.py)
DATA_SUFFIXES = frozenset({".json", ".csv", ".txt", ".npy", ".npz", ".safetensors"})
MAX_SAFETENSORS_HEADER = 100 * 1024 * 1024


def looks_like_pickle(head: bytes) -> bool:
    """Pickle protocol 2-5 starts with PROTO (0x80, version); protocol 0/1 with a GLOBAL/MARK opcode line."""
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return True
    return head.startswith((b"c__builtin__\n", b"ccopy_reg\n", b"(dp0", b"(lp0", b"(i", b"}q\x00", b"]q\x00"))


def pickle_problem(path: Path, rel: str) -> str | None:
    """Why this file is (or holds) a pickle, or None."""
    if path.suffix.lower() in PICKLE_SUFFIXES:
        return f"{rel}: pickle files are refused (they run code when loaded); use a safe format"
    with path.open("rb") as f:
        head = f.read(16)
    if looks_like_pickle(head):
        return f"{rel}: contains pickle data (refused: pickles run code when loaded)"
    if zipfile.is_zipfile(path):
        return _zip_pickle_problem(path, rel)
    return None


def _zip_pickle_problem(path: Path, rel: str) -> str | None:
    """Archives (skops files, torch .pt saves) may carry pickles inside: refuse those too."""
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist()[:10_000]:
                if Path(info.filename).suffix.lower() in PICKLE_SUFFIXES:
                    return f"{rel}: archive member {info.filename!r} is a pickle (refused)"
                with archive.open(info) as member:
                    if looks_like_pickle(member.read(16)):
                        return f"{rel}: archive member {info.filename!r} contains pickle data (refused)"
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError):
        return f"{rel}: unreadable archive"
    return None


def _is_skops(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return "schema.json" in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def _is_xgboost_json(path: Path) -> bool:
    try:
        data = json.loads(path.read_bytes())
    except (ValueError, OSError):
        return False
    return isinstance(data, dict) and "learner" in data


def _is_ubjson(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(1) == b"{"


def _is_lightgbm_text(path: Path) -> bool:
    with path.open("rb") as f:
        return f.readline().strip() == b"tree"


def _is_safetensors(path: Path) -> bool:
    size = path.stat().st_size
    with path.open("rb") as f:
        raw = f.read(8)
        if len(raw) < 8:
            return False
        (length,) = struct.unpack("<Q", raw)
        if length > min(size - 8, MAX_SAFETENSORS_HEADER):
            return False
        try:
            return isinstance(json.loads(f.read(length)), dict)
        except ValueError:
            return False


def _is_onnx(path: Path) -> bool:
    import onnx  # ONNX parses protobuf only: no code runs; external data would read files, so refuse it

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:
        return False
    external = onnx.TensorProto.EXTERNAL
    return not any(t.data_location == external for t in model.graph.initializer)


def _is_npy(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(6) == b"\x93NUMPY"


def _always(path: Path) -> bool:
    return True


_CHECKERS: dict[str, Callable[[Path], bool]] = {
    ".skops": _is_skops,
    ".json": _is_xgboost_json,
    ".ubj": _is_ubjson,
    ".txt": _is_lightgbm_text,
    ".safetensors": _is_safetensors,
    ".onnx": _is_onnx,
    ".npy": _is_npy,
    ".npz": zipfile.is_zipfile,
    ".csv": _always,
}


def weights_problem(path: Path, framework: str) -> str | None:
    """Why `path` is not a weights file `framework` can load, or None."""
    rel = f"weights/{path.name}"
    allowed = FRAMEWORK_SUFFIXES[framework]
    suffix = path.suffix.lower()
    if suffix not in allowed:
        return f"{rel}: {framework} weights must be {' or '.join(sorted(allowed))}"
    if framework == "python" and suffix in {".json", ".txt"}:
        return None  # a python bundle's own JSON/text, not a booster
    if not _CHECKERS[suffix](path):
        return f"{rel}: not a valid {suffix} file for {framework}"
    return None
