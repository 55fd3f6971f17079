"""Released leaderboards kept as JSON per viewer class (see service.boards for when one is used).

Each cached board is the release step's own output, serialized once: the rows twice (with `mine`
false and true, the only per-viewer field) and the user each row belongs to, so a request only
joins bytes. The ETag of a response is a digest of exactly what its body holds (the class's rows
and which of them are the viewer's), so it says nothing the viewer does not read in the body.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field

from cohortbench.service.public import LeaderboardOut

ROWS_MARK = b'"rows":[]'
MAX_ENTRIES = 64


@dataclass(frozen=True)
class CachedBoard:
    """One viewer class's board as JSON pieces: the rows twice (not mine / mine) and their owners."""

    stamp: Hashable
    head: bytes  # the object up to and including '"rows":['
    tail: bytes  # ']' and the rest of the object
    rows: tuple[bytes, ...]
    rows_mine: tuple[bytes, ...]
    owners: tuple[int, ...]
    digest: bytes

    @classmethod
    def of(cls, board: LeaderboardOut, owners: tuple[int, ...], stamp: Hashable) -> CachedBoard:
        empty = board.model_copy(update={"rows": []}).model_dump_json().encode()
        head, mark, rest = empty.partition(ROWS_MARK)
        if not mark:  # the models changed shape: fail loudly rather than serve a broken body
            raise RuntimeError("leaderboard JSON has no rows list to fill")
        plain = [row.model_copy(update={"mine": False}) for row in board.rows]
        rows = tuple(r.model_dump_json().encode() for r in plain)
        rows_mine = tuple(r.model_copy(update={"mine": True}).model_dump_json().encode() for r in plain)
        digest = hashlib.blake2b(b"\x00".join((head, rest, *rows)), digest_size=16).digest()
        return cls(stamp, head + b'"rows":[', b"]" + rest, rows, rows_mine, owners, digest)

    def served(self, viewer_id: int) -> ServedBoard:
        """This board as `viewer_id` reads it: `mine` true on their rows, an ETag of that content."""
        mine = [i for i, owner in enumerate(self.owners) if owner == viewer_id]
        tag = hashlib.blake2b(self.digest, digest_size=16)
        tag.update(",".join(map(str, mine)).encode())
        return ServedBoard(f'"{tag.hexdigest()}"', self, frozenset(mine))


@dataclass(frozen=True)
class ServedBoard:
    """A board for one viewer: its ETag now, its body only when asked (a 304 never builds it)."""

    etag: str
    board: CachedBoard
    mine: frozenset[int]

    def body(self) -> bytes:
        b = self.board
        rows = [b.rows_mine[i] if i in self.mine else row for i, row in enumerate(b.rows)]
        return b.head + b",".join(rows) + b.tail


@dataclass
class BoardCache:
    """A bounded, thread-safe map from (workspace, viewer class, day, grid) to the latest board.

    One request builds a missing board while the others asking for the same key wait for it,
    so an invalidation under load costs one build, not one per waiting client.
    """

    max_entries: int = MAX_ENTRIES
    _entries: OrderedDict[Hashable, CachedBoard] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _building: dict[Hashable, threading.Lock] = field(default_factory=dict)

    def get(self, key: Hashable, stamp: Hashable) -> CachedBoard | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.stamp != stamp:
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: Hashable, entry: CachedBoard) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def build_lock(self, key: Hashable) -> threading.Lock:
        with self._lock:
            return self._building.setdefault(key, threading.Lock())

    def __len__(self) -> int:
        return len(self._entries)
