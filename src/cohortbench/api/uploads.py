"""Streamed, size-capped uploads: the body goes to a temp file chunk by chunk and stops at the cap."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import UploadFile

from cohortbench.errors import ValidationError

CHUNK = 1024 * 1024


async def save_upload(upload: UploadFile, *, max_bytes: int, suffix: str) -> Path:
    """Copy an upload to a temp file, refusing it (413) as soon as it passes `max_bytes`."""
    handle = tempfile.NamedTemporaryFile(prefix="cohortbench-upload-", suffix=suffix, delete=False)  # noqa: SIM115
    path = Path(handle.name)
    total = 0
    with handle:
        while chunk := await upload.read(CHUNK):
            total += len(chunk)
            if total > max_bytes:
                handle.close()
                path.unlink(missing_ok=True)
                raise ValidationError(
                    f"upload larger than the limit of {max_bytes:,} bytes", code="too_large"
                )
            handle.write(chunk)
    return path
