"""Released leaderboards kept as JSON per viewer class (see service.boards for when one is used).

Each cached board is the release step's own output, serialized once: the rows joined as they read
with `mine` false (the only per-viewer field), each row again with `mine` true, and the user each
row belongs to, so a request only splices bytes: its few `mine` rows into the joined ones. The
ETag of a response is a digest of exactly what its body holds (the class's rows, which of them are
the viewer's, and the page), so it says nothing the viewer does not read in the body.

Bodies are also kept gzip-compressed, since a 10,000-row board is 5-6 MB of JSON and about 0.3 MB
compressed: compressing it takes tens of milliseconds, so it is done once per body (its ETag, within
its viewer class) and the compressed bytes are kept in a byte-bounded LRU, never per request.
"""

from __future__ import annotations

import hashlib
import threading
import zlib
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

from cohortbench.service.public import LeaderboardOut

ROWS_MARK = b'"rows":[]'
MAX_ENTRIES = 64
#: zlib level 1: a 6 MB board in ~40 ms to 1/20 of its size; level 6 is 3-4x slower for 20 % less
GZIP_LEVEL = 1
MAX_GZIP_BYTES = 64 * 2**20
GZIP_WBITS = 16 + zlib.MAX_WBITS  # the gzip container (RFC 1952), not raw zlib


def gzip_bytes(body: bytes) -> bytes:
    """`body` as a gzip member (no file name, mtime 0: the same body always gives the same bytes)."""
    return zlib.compress(body, GZIP_LEVEL, wbits=GZIP_WBITS)


@dataclass(frozen=True)
class CachedBoard:
    """One viewer class's board as JSON pieces: the rows joined (not mine), each row mine, the owners."""

    key: Hashable  # (workspace, viewer class, day, grid): see service.boards
    stamp: Hashable
    head: bytes  # the object up to and including '"rows":['
    tail: bytes  # ']' and the rest of the object
    joined: bytes  # every row with `mine` false, comma-separated
    starts: tuple[int, ...]  # where each row starts in `joined`, and one past the last row's end
    rows_mine: tuple[bytes, ...]
    owners: tuple[int, ...]
    by_owner: Mapping[int, tuple[int, ...]]  # each owner's row indices, ascending
    digest: bytes

    @classmethod
    def of(
        cls, board: LeaderboardOut, owners: tuple[int, ...], *, key: Hashable, stamp: Hashable
    ) -> CachedBoard:
        empty = board.model_copy(update={"rows": []}).model_dump_json().encode()
        head, mark, rest = empty.partition(ROWS_MARK)
        if not mark:  # the models changed shape: fail loudly rather than serve a broken body
            raise RuntimeError("leaderboard JSON has no rows list to fill")
        if len(owners) != len(board.rows):
            raise RuntimeError("the board's rows and their owners differ in number")
        plain = [row.model_copy(update={"mine": False}) for row in board.rows]
        rows = [r.model_dump_json().encode() for r in plain]
        rows_mine = tuple(r.model_copy(update={"mine": True}).model_dump_json().encode() for r in plain)
        starts, at = [], 0
        for row in rows:
            starts.append(at)
            at += len(row) + 1
        starts.append(at)  # one past the last row's comma: each row ends at its next start - 1
        by_owner: dict[int, list[int]] = {}
        for i, owner in enumerate(owners):
            by_owner.setdefault(owner, []).append(i)
        digest = hashlib.blake2b(b"\x00".join((head, rest, *rows)), digest_size=16).digest()
        return cls(
            key, stamp, head + b'"rows":[', b"]" + rest, b",".join(rows), tuple(starts), rows_mine, owners,
            {owner: tuple(ix) for owner, ix in by_owner.items()}, digest,
        )  # fmt: skip

    def __len__(self) -> int:
        return len(self.rows_mine)

    def served(self, viewer_id: int, *, offset: int = 0, limit: int | None = None) -> ServedBoard:
        """This board as `viewer_id` reads it: `mine` true on their rows, rows [offset, offset+limit).

        The ETag of the whole board is the one it always had (the class's content and the viewer's
        rows); a page's tag adds the page's bounds, so a page is never taken for the board.
        """
        mine = self.by_owner.get(viewer_id, ())
        tag = hashlib.blake2b(self.digest, digest_size=16)
        tag.update(",".join(map(str, mine)).encode())
        start = min(offset, len(self))
        stop = len(self) if limit is None else min(len(self), start + limit)
        if (start, stop) != (0, len(self)):
            tag.update(f"|{start}:{stop}".encode())
        return ServedBoard(f'"{tag.hexdigest()}"', self, mine, start, stop)


@dataclass(frozen=True)
class ServedBoard:
    """A board (or page) for one viewer: its ETag now, its body only when asked (a 304 builds none)."""

    etag: str
    board: CachedBoard
    mine: tuple[int, ...]  # the viewer's row indices in the whole board, ascending
    start: int
    stop: int

    def body(self) -> bytes:
        """The JSON: the joined rows of [start, stop) with the viewer's rows spliced in as `mine`."""
        b, start, stop = self.board, self.start, self.stop
        if start >= stop:
            return b.head + b.tail
        joined = memoryview(b.joined)
        pieces: list[bytes | memoryview] = [b.head]
        at = b.starts[start]
        for i in self.mine:
            if start <= i < stop:
                pieces += (joined[at : b.starts[i]], b.rows_mine[i])
                at = b.starts[i + 1] - 1  # the comma after row i (or the end of the last row)
        pieces += (joined[at : b.starts[stop] - 1], b.tail)
        return b"".join(pieces)


@dataclass
class BoardCache:
    """A bounded, thread-safe map from (workspace, viewer class, day, grid) to the latest board.

    One request builds a missing board while the others asking for the same key wait for it,
    so an invalidation under load costs one build, not one per waiting client. Compressed bodies
    live beside the boards, keyed by (that key, the body's ETag): the tag is a digest of the body,
    so equal keys mean equal bytes, and a body is compressed once while the others wait for it.
    """

    max_entries: int = MAX_ENTRIES
    max_gzip_bytes: int = MAX_GZIP_BYTES
    _entries: OrderedDict[Hashable, CachedBoard] = field(default_factory=OrderedDict)
    _gzipped: OrderedDict[tuple[Hashable, str], bytes] = field(default_factory=OrderedDict)
    _gzip_size: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _building: dict[Hashable, threading.Lock] = field(default_factory=dict)

    def get(self, key: Hashable, stamp: Hashable) -> CachedBoard | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.stamp != stamp:
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, entry: CachedBoard) -> None:
        with self._lock:
            self._entries[entry.key] = entry
            self._entries.move_to_end(entry.key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def build_lock(self, key: Hashable) -> threading.Lock:
        with self._lock:
            return self._building.setdefault(key, threading.Lock())

    def gzipped(self, served: ServedBoard) -> bytes:
        """`served.body()` gzip-compressed: from the cache, or compressed once and kept."""
        gkey = (served.board.key, served.etag)
        found = self._gzip_get(gkey)
        if found is not None:
            return found
        with self.build_lock(("gzip", gkey)):
            found = self._gzip_get(gkey)
            if found is None:
                found = gzip_bytes(served.body())
                self._gzip_put(gkey, found)
        with self._lock:
            self._building.pop(("gzip", gkey), None)
        return found

    def _gzip_get(self, gkey: tuple[Hashable, str]) -> bytes | None:
        with self._lock:
            found = self._gzipped.get(gkey)
            if found is not None:
                self._gzipped.move_to_end(gkey)
            return found

    def _gzip_put(self, gkey: tuple[Hashable, str], data: bytes) -> None:
        with self._lock:
            if gkey in self._gzipped or len(data) > self.max_gzip_bytes:
                return
            self._gzipped[gkey] = data
            self._gzip_size += len(data)
            while self._gzip_size > self.max_gzip_bytes:
                _key, dropped = self._gzipped.popitem(last=False)
                self._gzip_size -= len(dropped)

    @property
    def gzip_size(self) -> int:
        """Bytes of compressed bodies held (at most `max_gzip_bytes`)."""
        return self._gzip_size

    def __len__(self) -> int:
        return len(self._entries)
