"""Turns the raw error.json of a run into what a contributor may see, and the rest into the owner log.

Everything in error.json is contributor-controlled (their code shares the process), so each public
field is checked against something fixed at submission time: the code against RUN_ERROR_CODES, the
exception type against builtin exception names or a `class NAME` written in the bundle's sources, and
each frame against an existing .py file of the bundle, a line inside it and a `def NAME` in it. A
name built at run time (e.g. a class named after a patient value) can therefore never come out.
"""

from __future__ import annotations

import builtins
import re
from pathlib import Path
from typing import Any

from cohortbench.sandbox.runs import RUN_ERROR_CODES, Frame, OwnerLog, PublicError

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
BUILTIN_EXCEPTIONS = frozenset(
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
)

#: cohortbench's own exceptions, raised by trusted code around the contributor's (fixed names)
TRUSTED_EXCEPTIONS = frozenset(
    {
        "BadPredictionsError",
        "BudgetExceededError",
        "BundleError",
        "CohortbenchError",
        "FineTuneUnsupportedError",
        "OutputTooLargeError",
        "ValidationError",
    }
)


def _static_name(name: Any, bundle_dir: Path, keyword: str, files: list[Path]) -> bool:
    if not isinstance(name, str) or not IDENTIFIER.fullmatch(name):
        return False
    pattern = re.compile(rf"^\s*(async\s+)?{keyword}\s+{re.escape(name)}\b", re.MULTILINE)
    return any(pattern.search(path.read_text(errors="replace")) for path in files)


def public_exc_type(mro_names: Any, bundle_dir: Path) -> str | None:
    """The first class of the exception's MRO that is a builtin or cohortbench exception, or declared in the bundle."""
    if not isinstance(mro_names, list):
        return None
    files = sorted(bundle_dir.rglob("*.py"))
    for name in mro_names[:32]:
        if (
            name in BUILTIN_EXCEPTIONS
            or name in TRUSTED_EXCEPTIONS
            or _static_name(name, bundle_dir, "class", files)
        ):
            return str(name)
    return None


def public_frames(raw: Any, bundle_dir: Path, *, limit: int = 20) -> tuple[Frame, ...]:
    """Frames whose file, line and function all exist in the submitted bundle source."""
    frames: list[Frame] = []
    for item in raw[-limit:] if isinstance(raw, list) else []:
        frame = _frame(item, bundle_dir)
        if frame is not None:
            frames.append(frame)
    return tuple(frames)


def _frame(item: Any, bundle_dir: Path) -> Frame | None:
    if not isinstance(item, dict):
        return None
    file, line, function = item.get("file"), item.get("line"), item.get("function")
    if (
        not isinstance(file, str)
        or not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_./-]{0,200}\.py", file)
        or ".." in file
    ):
        return None
    path = bundle_dir / file
    if path.is_symlink() or not path.is_file() or not isinstance(line, int) or isinstance(line, bool):
        return None
    if not 1 <= line <= len(path.read_text(errors="replace").splitlines()):
        return None
    if function != "<module>" and not _static_name(function, bundle_dir, "def", [path]):
        return None
    return Frame(file=file, line=line, function=str(function))


def split_error(raw: Any, bundle_dir: Path, *, code: str | None = None) -> tuple[PublicError, OwnerLog]:
    """(public part, owner part) of an error.json document; `code` overrides the document's own."""
    doc = raw if isinstance(raw, dict) else {}
    claimed = doc.get("code")
    final = code or (claimed if claimed in RUN_ERROR_CODES else "crashed")
    public = PublicError(
        code=final,
        exc_type=public_exc_type(doc.get("exc_type"), bundle_dir),
        frames=public_frames(doc.get("frames"), bundle_dir),
    )
    message, trace = doc.get("message"), doc.get("traceback")
    owner = OwnerLog(
        message=message if isinstance(message, str) else "", traceback=trace if isinstance(trace, str) else ""
    )
    return public, owner
