"""The board gzip-compressed and in pages: the same release-step output, cut or compressed, per viewer.

Compressed bodies are cached (once per body, not per request), so they carry the board cache's
invariant: no viewer is ever served bytes built for another. Submissions are inserted as finished.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from typing import Any

import pytest

from cohortbench.api.encoding import accepts_gzip
from cohortbench.service import board_cache
from cohortbench.service.board_cache import BoardCache
from tests.service.board_helpers import URL, WHO, auth, expected, finish, publish
from tests.service.conftest import Deployment

GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}


def _raw(
    dep: Deployment, who: str, encoding: dict[str, str], query: str = ""
) -> tuple[bytes, dict[str, str]]:
    """The body exactly as sent (not decoded by the client) and the response's headers."""
    with dep.http.stream("GET", URL + query, headers={**auth(dep, who), **encoding}) as response:
        assert response.status_code == 200, response.read()
        return b"".join(response.iter_raw()), dict(response.headers)


@pytest.fixture
def compressions(monkeypatch: pytest.MonkeyPatch) -> Counter[bytes]:
    """Counts each body the board cache compresses."""
    seen: Counter[bytes] = Counter()
    real = board_cache.gzip_bytes

    def counting(body: bytes) -> bytes:
        seen[body] += 1
        return real(body)

    monkeypatch.setattr(board_cache, "gzip_bytes", counting)
    return seen


def test_each_viewers_gzip_body_is_their_own_board_compressed_once(
    deployment: Deployment, compressions: Counter[bytes]
) -> None:
    for who, score in (("alice", 0.81), ("bob", 0.77), ("alice", 0.62)):
        finish(deployment, who, score)
    for released in (False, True):
        if released:
            publish(deployment)
        bodies = {}
        for who in (*WHO, *WHO[::-1], *WHO):  # the later rounds come from the cache, in other orders
            zipped, headers = _raw(deployment, who, GZIP)
            plain, plain_headers = _raw(deployment, who, IDENTITY)
            assert headers["content-encoding"] == "gzip" and "content-encoding" not in plain_headers
            assert "Accept-Encoding" in headers["vary"] and "Authorization" in headers["vary"]
            assert headers["etag"] == f"W/{plain_headers['etag']}"
            assert gzip.decompress(zipped) == plain
            assert json.loads(plain) == expected(deployment, who)
            assert bodies.setdefault(who, zipped) == zipped
        assert bodies["alice"] != bodies["bob"] and bodies["alice"] != bodies["owner"]
        assert gzip.decompress(bodies["alice"]) != gzip.decompress(bodies["bob"])
        assert max(compressions.values()) == 1  # once per body, however often it is read
        assert len(compressions) == 4 * (1 + released)  # four viewers, four bodies, before and after

    before, _headers = _raw(deployment, "alice", GZIP)
    new = finish(deployment, "alice", 0.9)  # a finished submission changes her compressed board
    after, _headers = _raw(deployment, "alice", GZIP)
    assert after != before and gzip.decompress(after) != gzip.decompress(before)
    assert json.loads(gzip.decompress(after)) == expected(deployment, "alice")
    assert new in {r["submission_id"] for r in json.loads(gzip.decompress(after))["rows"]}


def test_the_compressed_bodies_are_bounded(deployment: Deployment, compressions: Counter[bytes]) -> None:
    """Room for one body: alternating viewers compress again each time; the bytes stay right."""
    finish(deployment, "alice", 0.81)
    finish(deployment, "bob", 0.77)
    publish(deployment)
    first = _raw(deployment, "alice", GZIP)[0]
    deployment.platform.boards = BoardCache(max_gzip_bytes=len(first) + 8)
    for who in ("alice", "bob", "alice", "bob"):
        assert json.loads(gzip.decompress(_raw(deployment, who, GZIP)[0])) == expected(deployment, who)
    assert sum(compressions.values()) == 1 + 4
    assert deployment.platform.boards.gzip_size <= len(first) + 8


def _page(dep: Deployment, who: str, query: str, encoding: dict[str, str] = GZIP) -> tuple[Any, str]:
    response = dep.http.get(URL + query, headers={**auth(dep, who), **encoding})
    assert response.status_code == 200, response.text
    return response.json(), response.headers.get("etag", "")


def test_pages_are_slices_of_each_viewers_board(deployment: Deployment) -> None:
    for who, score in (("alice", 0.81), ("bob", 0.77), ("alice", 0.62), ("bob", 0.7), ("alice", 0.5)):
        finish(deployment, who, score)
    for released in (False, True):
        if released:
            publish(deployment)
        for who in ("owner", "alice", "bob"):
            whole = expected(deployment, who)
            rows = len(whole["rows"])
            ranges: dict[str, set[tuple[int, int]]] = {
                _page(deployment, who, "")[1].removeprefix("W/"): {(0, rows)}
            }
            for offset in range(rows + 2):
                for limit in (1, 2, 100):
                    query = f"?offset={offset}&limit={limit}"
                    page, tag = _page(deployment, who, query, (GZIP, IDENTITY)[(offset + limit) % 2])
                    assert page == {**whole, "rows": whole["rows"][offset : offset + limit]}, (who, query)
                    start = min(offset, rows)
                    ranges.setdefault(tag.removeprefix("W/"), set()).add((start, min(rows, start + limit)))
            # one tag per range of rows (the page of every row is the board itself), none shared
            assert all(len(r) == 1 for r in ranges.values()) and len(ranges) == len(
                set().union(*ranges.values())
            )
    alice = deployment.client("alice")  # the SDK pages the same way
    ids = [r["submission_id"] for r in expected(deployment, "alice")["rows"]]
    assert list(alice.leaderboard("tiny", limit=2, offset=1).submission_id) == ids[1:3]
    assert list(alice.leaderboard("tiny", offset=3).submission_id) == ids[3:]
    assert list(alice.leaderboard("tiny").submission_id) == ids
    tag = _page(deployment, "alice", "?offset=1&limit=2")[1]
    again = deployment.http.get(URL + "?offset=1&limit=2", headers=auth(deployment, "alice", tag))
    assert again.status_code == 304
    assert (
        deployment.http.get(URL + "?offset=2&limit=2", headers=auth(deployment, "alice", tag)).status_code
        == 200
    )


def test_pages_of_a_version_board_and_bad_pages(deployment: Deployment) -> None:
    finish(deployment, "alice", 0.81)
    finish(deployment, "alice", 0.62)
    whole = expected(deployment, "alice", version=1)
    page, _tag = _page(deployment, "alice", "?version=1&offset=1&limit=1")
    assert page == {**whole, "rows": whole["rows"][1:2]}
    zipped, headers = _raw(deployment, "alice", GZIP, "?version=1")
    assert headers["content-encoding"] == "gzip" and json.loads(gzip.decompress(zipped)) == whole
    for query in ("?limit=0", "?offset=-1", "?limit=x"):
        response = deployment.http.get(URL + query, headers=auth(deployment, "alice"))
        assert response.status_code == 422 and query[1:].split("=")[0] in response.text, response.text
    assert _page(deployment, "alice", "")[0] == expected(deployment, "alice")  # nothing lost


@pytest.mark.parametrize(
    ("header", "takes"),
    [
        ("gzip, deflate", True), ("GZIP", True), ("deflate, gzip;q=0.5", True), ("x-gzip", True),
        ("*", True), ("br;q=1, *;q=0.1", True), ("", False), ("identity", False), ("deflate, br", False),
        ("gzip;q=0", False), ("*;q=0", False), ("gzip;q=0, *", False), ("gzip;q=abc", False),
        ("gzip ; q=0.0", False), ("gzip;q=0.001", True),
    ],
)  # fmt: skip
def test_accept_encoding_is_read_with_its_quality_values(header: str, takes: bool) -> None:
    assert accepts_gzip(header) is takes
