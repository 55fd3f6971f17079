"""Turns the raw error.json of a run into what a contributor may see, and the rest into the owner log.

Everything in error.json is contributor-controlled (their code shares the process), so each field
is checked against something fixed: the code against ERROR_CODES, the exception type against the
allow-list of privacy.channels, and each frame against an existing .py file of the bundle, a line
inside it and a `def NAME` in it. Frames are for the owner and for schema-twin runs (`check`): the
release step (service.release) never shows them to a contributor on a real-data run, since line
numbers up to a file's length carry bits.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cohortbench.privacy.channels import ALLOWED_EXCEPTIONS
from cohortbench.sandbox.errors import detail_of
from cohortbench.sandbox.runs import Frame, OwnerLog, PublicError

#: Codes the in-sandbox entry may report about itself. The host's own verdicts (timeout,
#: budget_exceeded, output_too_large, out of memory as seen by the launcher) are never taken from
#: error.json, which the contributor's code can write.
ENTRY_CODES = frozenset(
    {"invalid_bundle", "import_error", "crashed", "out_of_memory", "bad_predictions", "fine_tune_unsupported"}
)
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def _static_name(name: Any, keyword: str, files: list[Path]) -> bool:
    if not isinstance(name, str) or not IDENTIFIER.fullmatch(name):
        return False
    pattern = re.compile(rf"^\s*(async\s+)?{keyword}\s+{re.escape(name)}\b", re.MULTILINE)
    return any(pattern.search(path.read_text(errors="replace")) for path in files)


def public_exc_type(mro_names: Any) -> str | None:
    """The first class of the exception's MRO that is on the fixed allow-list (builtins, runtime libraries).

    A class the bundle declares, or builds at run time, never comes out under its own name: a
    thousand declared classes would otherwise carry ten bits a run, and a name like
    "BudgetExceededError" could pose as the platform's own verdict.
    """
    if not isinstance(mro_names, list):
        return None
    for name in mro_names[:32]:
        if isinstance(name, str) and name in ALLOWED_EXCEPTIONS:
            return name
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
    if function != "<module>" and not _static_name(function, "def", [path]):
        return None
    return Frame(file=file, line=line, function=str(function))


def split_error(raw: Any, bundle_dir: Path, *, code: str | None = None) -> tuple[PublicError, OwnerLog]:
    """(public part, owner part) of an error.json document; `code` overrides the document's own."""
    doc = raw if isinstance(raw, dict) else {}
    claimed = doc.get("code")
    final = code or (claimed if claimed in ENTRY_CODES else "crashed")
    public = PublicError(
        code=final,
        exc_type=public_exc_type(doc.get("exc_type")),
        frames=public_frames(doc.get("frames"), bundle_dir),
        detail=detail_of(final, doc.get("message")),
    )
    message, trace = doc.get("message"), doc.get("traceback")
    owner = OwnerLog(
        message=message if isinstance(message, str) else "", traceback=trace if isinstance(trace, str) else ""
    )
    return public, owner
