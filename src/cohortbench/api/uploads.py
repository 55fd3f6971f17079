"""Streamed, size-capped multipart uploads, read only after the caller is authenticated.

FastAPI parses File/Form parameters (spooling every file to disk) before any dependency runs, so a
request with no token could fill /tmp before its 401. Upload routes therefore declare no body
parameters: they authenticate and check the role from the headers, then read the body here,
chunk by chunk, with the cap enforced while reading (413 as soon as it is passed) and every temp
file removed on every path out.
"""

from __future__ import annotations

import codecs
import json
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import anyio.to_thread
import pydantic
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from cohortbench.errors import ValidationError

MAX_FIELD_BYTES = 64 * 1024  # one text field (JSON plan, rules, a description)
MAX_PARTS = 32
FORM_OVERHEAD = MAX_PARTS * (MAX_FIELD_BYTES + 4096)  # text fields and part headers beside the file


@dataclass
class FormFile:
    """One uploaded file, on disk for the duration of the `multipart_form` block."""

    filename: str
    path: Path
    size: int = 0


@dataclass
class MultipartForm:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, FormFile] = field(default_factory=dict)

    def file(self, name: str) -> FormFile:
        if name not in self.files:
            raise RequestValidationError(
                [{"loc": ("body", name), "msg": "a file is required", "type": "missing"}]
            )
        return self.files[name]

    def validated(self, model: type[pydantic.BaseModel]) -> Any:
        """The text fields as `model` (422 naming the field, as FastAPI's own Form parameters do)."""
        try:
            return model.model_validate(self.fields)
        except pydantic.ValidationError as exc:
            raise RequestValidationError(
                [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_input=False)]
            ) from None


def json_object(text: str, name: str) -> dict[str, Any]:
    """A form field holding a JSON object (422 naming the field otherwise)."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:  # also 5,000-digit integers and deep nesting
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
        raise ValidationError(f"{name} is not valid JSON: {reason}") from None
    if not isinstance(value, dict):
        raise ValidationError(f"{name} must be a JSON object")
    return value


def too_large(max_bytes: int) -> ValidationError:
    return ValidationError(f"upload larger than the limit of {max_bytes:,} bytes", code="too_large")


@asynccontextmanager
async def multipart_form(
    request: Request,
    *,
    files: dict[str, str],
    fields: frozenset[str],
    max_file_bytes: int,
) -> AsyncIterator[MultipartForm]:
    """Read a multipart/form-data body: `files` maps each file field to its temp suffix.

    The declared Content-Length is checked before reading, the actual bytes while reading; a file
    is refused (413) the moment it passes `max_file_bytes`. Temp files are removed when the block
    ends, however it ends.
    """
    boundary, charset = _boundary(request.headers.get("content-type", ""))
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_file_bytes + FORM_OVERHEAD:
        raise too_large(max_file_bytes)
    reader = _FormReader(files, fields, charset, max_file_bytes)
    try:
        await _read(request, boundary, reader, max_file_bytes)
        yield reader.form
    finally:
        reader.remove()


async def _read(request: Request, boundary: bytes, reader: _FormReader, max_file_bytes: int) -> None:
    try:
        parser = MultipartParser(boundary, reader.callbacks())
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_file_bytes + FORM_OVERHEAD:
                raise too_large(max_file_bytes)
            parser.write(chunk)
            await reader.flush()
        parser.finalize()
        await reader.flush()
    except FormParserError:
        raise ValidationError(
            "the request body is not valid multipart/form-data", code="invalid_form"
        ) from None
    reader.close()
    if not reader.ended:
        raise ValidationError("the multipart body ends before its closing boundary", code="invalid_form")


def _boundary(content_type: str) -> tuple[bytes, str]:
    kind, params = parse_options_header(content_type)
    if kind != b"multipart/form-data" or not params.get(b"boundary"):
        raise ValidationError(
            "this endpoint takes multipart/form-data (with a boundary)", code="unsupported_media_type"
        )
    charset = params.get(b"charset", b"utf-8").decode("latin-1")
    try:
        return params[b"boundary"], codecs.lookup(charset).name
    except LookupError:
        return params[b"boundary"], "utf-8"


class _FormReader:
    """python-multipart callbacks: text fields kept in memory (capped), file bytes queued for disk.

    Callbacks run inside `parser.write`; the queued file bytes are written by `flush` in a worker
    thread between chunks, so a slow disk never blocks the event loop.
    """

    def __init__(
        self,
        files: dict[str, str],
        fields: frozenset[str],
        charset: str,
        max_file_bytes: int,
    ) -> None:
        self.expected_files, self.expected_fields = files, fields
        self.charset, self.max_file_bytes = charset, max_file_bytes
        self.form = MultipartForm()
        self.ended = False
        self._handles: list[IO[bytes]] = []
        self._paths: list[Path] = []
        self._pending: list[tuple[IO[bytes], bytes]] = []
        self._parts = 0
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._name = ""
        self._text = bytearray()
        self._file: FormFile | None = None
        self._handle: IO[bytes] | None = None

    def callbacks(self) -> Any:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise ValidationError(f"more than {MAX_PARTS} form parts", code="invalid_form")
        self._disposition, self._text, self._file, self._handle = b"", bytearray(), None, None

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]
        if len(self._header_name) > 1024:
            raise ValidationError("a form part header is too long", code="invalid_form")

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]
        if len(self._header_value) > 4096:
            raise ValidationError("a form part header is too long", code="invalid_form")

    def _header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        if b"name" not in options:
            raise ValidationError("a form part has no name", code="invalid_form")
        self._name = self._decode(options[b"name"], "a form field name")
        if self._name in self.form.fields or self._name in self.form.files:
            raise ValidationError(f"form field {self._name[:60]!r} appears twice", code="invalid_form")
        if self._name in self.expected_files:
            self._open(self._decode(options.get(b"filename", b""), "a file name"))
        elif self._name not in self.expected_fields:
            expected = ", ".join(sorted({*self.expected_files, *self.expected_fields}))
            raise ValidationError(
                f"unexpected form field {self._name[:60]!r}; this endpoint takes: {expected}",
                code="invalid_form",
            )

    def _open(self, filename: str) -> None:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed and removed by remove()
            prefix="cohortbench-upload-",
            suffix=self.expected_files[self._name],
            delete=False,
        )
        self._handles.append(handle)
        self._paths.append(Path(handle.name))
        self._handle = handle
        self._file = FormFile(filename=filename, path=Path(handle.name))
        self.form.files[self._name] = self._file

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._file is not None and self._handle is not None:
            self._file.size += end - start
            if self._file.size > self.max_file_bytes:
                raise too_large(self.max_file_bytes)
            self._pending.append((self._handle, data[start:end]))
            return
        self._text += data[start:end]
        if len(self._text) > MAX_FIELD_BYTES:
            raise ValidationError(
                f"form field {self._name!r} is longer than {MAX_FIELD_BYTES:,} bytes", code="too_large"
            )

    def _part_end(self) -> None:
        if self._file is None:
            self.form.fields[self._name] = self._decode(bytes(self._text), f"form field {self._name!r}")

    def _end(self) -> None:
        self.ended = True

    def _decode(self, raw: bytes, what: str) -> str:
        try:
            return raw.decode(self.charset)
        except UnicodeDecodeError:
            raise ValidationError(f"{what} is not valid {self.charset}", code="invalid_form") from None

    async def flush(self) -> None:
        """Write the file bytes parsed from the last chunk (in a thread: disk writes can be slow)."""
        if self._pending:
            pending, self._pending = self._pending, []
            await anyio.to_thread.run_sync(_write_all, pending)

    def close(self) -> None:
        for handle in self._handles:
            handle.close()

    def remove(self) -> None:
        for handle in self._handles:
            with suppress(OSError):
                handle.close()
        for path in self._paths:
            path.unlink(missing_ok=True)


def _write_all(pending: list[tuple[IO[bytes], bytes]]) -> None:
    for handle, data in pending:
        handle.write(data)
    for handle in {id(h): h for h, _ in pending}.values():
        handle.flush()


def multipart_openapi(
    files: dict[str, str], form: type[pydantic.BaseModel], required_files: tuple[str, ...]
) -> dict[str, Any]:
    """`openapi_extra` documenting a multipart body read by `multipart_form` (the route declares none)."""
    schema = form.model_json_schema()
    properties = {
        name: {"type": "string", "format": "binary", "description": text} for name, text in files.items()
    }
    properties.update(schema.get("properties", {}))
    required = [*required_files, *schema.get("required", [])]
    body = {"type": "object", "properties": properties, "required": required}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": body}}}}
