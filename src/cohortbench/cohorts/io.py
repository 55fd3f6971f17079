"""Reading and writing cohort frames as CSV or Parquet, byte-for-byte reproducibly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cohortbench.errors import ValidationError
from cohortbench.sandbox.frames import READ_COLUMNS, read_frame

SUFFIXES = (".csv", ".parquet")


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValidationError(
            f"unsupported file type {path.suffix or '(none)'!r} for {path}; use .csv or .parquet"
        )
    return suffix


def save_frame(frame: pd.DataFrame, path: Path) -> None:
    """Write `frame` without its index; the same frame always gives the same bytes."""
    suffix = _suffix(path)
    try:
        if suffix == ".csv":
            frame.to_csv(path, index=False, lineterminator="\n")
        else:
            frame.to_parquet(path, index=False, engine="pyarrow", compression="zstd")
    except OSError as exc:
        raise ValidationError(f"cannot write {path}: {exc.strerror or exc}") from None


def read_parquet(path: Path, *, chunk_columns: int = READ_COLUMNS) -> pd.DataFrame:
    """pd.read_parquet's frame, read `chunk_columns` columns at a time (sandbox.frames.read_frame,
    which the sandbox's entry uses too)."""
    return read_frame(path, chunk_columns=chunk_columns)


def load_frame(path: Path) -> pd.DataFrame:
    """Read a frame written by `save_frame` (or any CSV/Parquet of the same shape)."""
    suffix = _suffix(path)
    try:
        if suffix == ".csv":
            return pd.read_csv(path, dtype={"patient_id": str})
        return read_parquet(path)
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (ValueError, pd.errors.ParserError) as exc:
        raise ValidationError(f"cannot parse {path}: {str(exc).splitlines()[0]}") from None
