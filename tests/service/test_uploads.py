"""Uploads: the token and the role are checked before one body byte is read; the size cap is enforced
while reading; temp files are gone on every path out.

The app is driven through raw ASGI calls whose `receive` counts the body bytes the server pulled,
so "nothing read before the 401" is measured, not assumed.
"""

from __future__ import annotations

import asyncio
import errno
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

from cohortbench.api import uploads
from tests.service.conftest import Deployment

BOUNDARY = "cbtestboundary"
MIB = 1024 * 1024
CHUNK = 64 * 1024


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    read: int  # body bytes the app pulled from the client


def asgi_post(app: Any, path: str, headers: dict[str, str], chunks: Iterator[bytes]) -> Answer:
    """POST a streamed body to the ASGI app, counting what the app reads of it."""
    read = 0
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    try:
        asyncio.run(app(scope, receive, send))
    except Exception:  # Starlette re-raises after answering an unexpected error, for the server's log
        if not messages:
            raise
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    head = {k.decode(): v.decode() for k, v in start["headers"]}
    return Answer(start["status"], head, body, read)


def bundle_body(size: int, *, extra: bytes = b"") -> Iterator[bytes]:
    """A multipart body whose `bundle` file part is `size` bytes, produced lazily chunk by chunk."""
    yield (
        extra
        + (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="bundle"; filename="b.zip"\r\n'
            "Content-Type: application/zip\r\n\r\n"
        ).encode()
    )
    block = b"z" * CHUNK
    for _ in range(size // CHUNK):
        yield block
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def multipart(token: str | None) -> dict[str, str]:
    headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return headers


@pytest.fixture
def disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Temp files go to a watched folder; the largest size any upload temp file reached is recorded."""
    watched = tmp_path / "tmp"
    watched.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(watched))
    seen: dict[str, Any] = {"folder": watched, "peak": 0, "files": set()}
    original = uploads._write_all

    def spy(pending: list[tuple[IO[bytes], bytes]]) -> None:
        original(pending)
        for handle, _ in pending:
            seen["files"].add(handle.name)
            seen["peak"] = max(seen["peak"], Path(handle.name).stat().st_size)

    monkeypatch.setattr(uploads, "_write_all", spy)
    return seen


SUBMIT = "/api/v1/workspaces/tiny/submissions"


def test_no_token_gets_401_before_one_byte_is_read(deployment: Deployment, disk: dict[str, Any]) -> None:
    answer = asgi_post(deployment.http.app, SUBMIT, multipart(None), bundle_body(64 * MIB))
    assert answer.status == 401 and answer.headers["content-type"].startswith("application/problem+json")
    assert answer.read == 0, f"{answer.read} body bytes read before the 401"
    assert disk["peak"] == 0 and not any(disk["folder"].iterdir())


def test_a_viewer_gets_403_before_one_byte_is_read(deployment: Deployment, disk: dict[str, Any]) -> None:
    answer = asgi_post(
        deployment.http.app, SUBMIT, multipart(deployment.tokens["victor"]), bundle_body(16 * MIB)
    )
    assert answer.status == 403 and answer.read == 0
    cohort = asgi_post(
        deployment.http.app, "/api/v1/workspaces", multipart(deployment.tokens["alice"]), iter([])
    )
    assert cohort.status == 403 and cohort.read == 0, "creating a workspace needs an administrator"


def test_an_oversized_body_stops_at_the_cap_with_413(deployment: Deployment, disk: dict[str, Any]) -> None:
    """No Content-Length (chunked): the cap is enforced while reading, the temp file removed."""
    cap = 1 * MIB
    object.__setattr__(deployment.platform.settings, "max_upload_bytes", cap)
    answer = asgi_post(
        deployment.http.app, SUBMIT, multipart(deployment.tokens["alice"]), bundle_body(300 * MIB)
    )
    assert answer.status == 413 and answer.headers["content-type"].startswith("application/problem+json")
    assert answer.read <= cap + 2 * CHUNK, f"read {answer.read:,} bytes past a {cap:,}-byte cap"
    assert disk["peak"] <= cap, f"{disk['peak']:,} bytes on disk for a {cap:,}-byte cap"
    assert disk["files"] and not any(disk["folder"].iterdir()), "the temp file is removed"


def test_a_declared_oversized_body_is_refused_unread(deployment: Deployment, disk: dict[str, Any]) -> None:
    object.__setattr__(deployment.platform.settings, "max_upload_bytes", MIB)
    headers = {**multipart(deployment.tokens["alice"]), "content-length": str(300 * MIB)}
    answer = asgi_post(deployment.http.app, SUBMIT, headers, bundle_body(300 * MIB))
    assert answer.status == 413 and answer.read == 0


def test_a_full_disk_while_uploading_is_507_and_leaves_no_temp_file(
    deployment: Deployment, disk: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(pending: list[tuple[IO[bytes], bytes]]) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(uploads, "_write_all", full)
    answer = asgi_post(deployment.http.app, SUBMIT, multipart(deployment.tokens["alice"]), bundle_body(MIB))
    assert answer.status == 507 and answer.headers["content-type"].startswith("application/problem+json")
    assert not any(disk["folder"].iterdir())


@pytest.mark.parametrize(
    ("headers", "chunks", "status", "fragment"),
    [
        ({"content-type": "application/json"}, [b"{}"], 415, "multipart/form-data"),
        (
            None,
            [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="bundle"\r\n\r\nabc'.encode()],
            422,
            "closing boundary",
        ),
        (
            None,
            [
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="plan"\r\n\r\n{{}}\r\n--{BOUNDARY}--\r\n'.encode()
            ],
            422,
            "bundle",
        ),
        (
            None,
            [
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="evil"; filename="x"\r\n\r\nx\r\n--{BOUNDARY}--\r\n'.encode()
            ],
            422,
            "unexpected form field",
        ),
        (None, [b"garbage without any boundary at all"], 422, "multipart"),
    ],
    ids=["json", "truncated", "no-file", "unknown-field", "garbage"],
)
def test_malformed_multipart_is_a_clear_4xx_and_leaves_no_temp_file(
    deployment: Deployment,
    disk: dict[str, Any],
    headers: dict[str, str] | None,
    chunks: list[bytes],
    status: int,
    fragment: str,
) -> None:
    token = deployment.tokens["alice"]
    sent = {**headers, "authorization": f"Bearer {token}"} if headers else multipart(token)
    answer = asgi_post(deployment.http.app, SUBMIT, sent, iter(chunks))
    assert answer.status == status, answer.body
    assert fragment in answer.body.decode()
    assert not any(disk["folder"].iterdir())
