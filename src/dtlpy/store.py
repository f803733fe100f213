"""Datasets with Sesam's entity bookkeeping, kept in embedded SQLite.

A dataset is an append-only log of entity versions. Each stored version gets
Sesam's bookkeeping properties:

- ``_updated``: the version's sequence number in its dataset (0, 1, 2, ...);
  reading "since" an offset gives every later version, which is what lets
  pipes run incrementally;
- ``_previous``: the ``_updated`` of the version it replaces (or null);
- ``_hash``: a hash of the content. Only ``_id`` and ``_deleted`` of the
  underscore properties count, so a write that reproduces the same content
  stores nothing - the first thing that stops sync echoes;
- ``_deleted``: true on deletion markers; ``_ts``: microseconds since the epoch.

>>> store = Store()
>>> people = store.dataset("people")
>>> people.put({"_id": "1", "name": "Ada"})
True
>>> people.put({"_id": "1", "name": "Ada", "_ts": 5})   # same content: no new version
False
>>> people.put({"_id": "1", "name": "Ada L."})
True
>>> [e["name"] for e in people.since(0)]
['Ada L.']
>>> people.get("1")["_previous"]
0
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from .errors import DtlInputError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS versions (
    dataset TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    hash TEXT NOT NULL,
    deleted INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (dataset, seq)
);
CREATE TABLE IF NOT EXISTS latest (
    dataset TEXT NOT NULL,
    id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (dataset, id)
);
CREATE TABLE IF NOT EXISTS datasets (
    dataset TEXT PRIMARY KEY,
    next_seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS pipes (
    pipe TEXT PRIMARY KEY,
    config_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pipe_offsets (
    pipe TEXT NOT NULL,
    kind TEXT NOT NULL,
    dataset TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (pipe, kind, dataset)
);
CREATE TABLE IF NOT EXISTS pipe_lineage (
    pipe TEXT NOT NULL,
    source TEXT NOT NULL,
    output TEXT NOT NULL,
    PRIMARY KEY (pipe, source, output)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pipe_lineage_output ON pipe_lineage (pipe, output);
"""

_CHUNK = 500  # ids per "IN (...)" query, well under SQLite's variable limit

BOOKKEEPING = ("_updated", "_previous", "_hash", "_ts")


def content_hash(entity: dict) -> str:
    """Hash of an entity's content: every property except the underscore
    ones, plus ``_id`` and ``_deleted`` (a false ``_deleted`` counts as absent).

    >>> content_hash({"_id": "a", "x": 1}) == content_hash({"_id": "a", "x": 1, "_ts": 9})
    True
    >>> content_hash({"_id": "a"}) == content_hash({"_id": "a", "_deleted": True})
    False
    """
    body = {k: v for k, v in entity.items() if not k.startswith("_")}
    body["_id"] = entity.get("_id")
    if entity.get("_deleted") is True:
        body["_deleted"] = True
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


class Store:
    """A set of datasets in one SQLite database (a file, or ``":memory:"``).

    ``clock`` returns microseconds since the epoch for ``_ts``; it is made
    strictly increasing so versions written in one run keep their order even
    under a pinned clock.
    """

    def __init__(self, path: str = ":memory:", *, clock: Callable[[], int] | None = None) -> None:
        self.path = str(path)
        self.db = sqlite3.connect(self.path)
        self.db.executescript(_SCHEMA)
        self._clock = clock or (lambda: time.time_ns() // 1000)
        self._last_ts = 0
        self.writes = 0  # versions stored since the store was opened (change counter)

    def close(self) -> None:
        self.db.close()

    def now_us(self) -> int:
        ts = max(int(self._clock()), self._last_ts + 1)
        self._last_ts = ts
        return ts

    def dataset(self, name: str) -> "Dataset":
        if type(name) is not str or not name:
            raise DtlInputError(f"a dataset id must be a non-empty string, got {name!r}", code="invalid-argument")
        return Dataset(self, name)

    def exists(self, name: str) -> bool:
        """True when the dataset has been written to (even if only with deletes)."""
        row = self.db.execute("SELECT 1 FROM datasets WHERE dataset=?", (name,)).fetchone()
        return row is not None

    def names(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT dataset FROM datasets ORDER BY dataset")]

    def commit(self) -> None:
        self.db.commit()

    # ------------------------------------------------------------ pipe positions

    def pipe_state(self, pipe: str) -> PipeState | None:
        """Where ``pipe`` stopped reading (None when it never completed a run
        or was reset). Kept in the same database as the datasets, so a pipe's
        writes and its new position are committed together.

        >>> s = Store()
        >>> s.save_pipe_state("p", "h1", sources={"src": 5}, dependencies={"ref": 2})
        >>> s.pipe_state("p")
        PipeState(config_hash='h1', sources={'src': 5}, dependencies={'ref': 2})
        >>> s.reset_pipe("p"); s.pipe_state("p") is None
        True
        """
        row = self.db.execute("SELECT config_hash FROM pipes WHERE pipe=?", (pipe,)).fetchone()
        if row is None:
            return None
        state = PipeState(row[0])
        for kind, name, seq in self.db.execute("SELECT kind, dataset, seq FROM pipe_offsets WHERE pipe=?", (pipe,)):
            (state.sources if kind == "source" else state.dependencies)[name] = seq
        return state

    def save_pipe_state(self, pipe: str, config_hash: str, *, sources: dict[str, int],
                        dependencies: dict[str, int]) -> None:
        db = self.db
        db.execute("INSERT OR REPLACE INTO pipes VALUES (?, ?)", (pipe, config_hash))
        db.execute("DELETE FROM pipe_offsets WHERE pipe=?", (pipe,))
        db.executemany("INSERT INTO pipe_offsets VALUES (?, ?, ?, ?)",
                       [(pipe, "source", n, o) for n, o in sources.items()]
                       + [(pipe, "dependency", n, o) for n, o in dependencies.items()])

    def reset_pipe(self, pipe: str) -> None:
        """Forget the pipe's position and lineage: its next run is a full run
        (what ``sesam reset`` does)."""
        for table in ("pipes", "pipe_offsets", "pipe_lineage"):
            self.db.execute(f"DELETE FROM {table} WHERE pipe=?", (pipe,))

    # ------------------------------------------------------------ pipe lineage

    def lineage(self, pipe: str, sources: Iterable[str]) -> dict[str, set[str]]:
        """source ``_id`` -> the output ``_id`` s the pipe made from it last time."""
        out: dict[str, set[str]] = {}
        for chunk in _chunks(sources):
            sql = f"SELECT source, output FROM pipe_lineage WHERE pipe=? AND source IN ({','.join('?' * len(chunk))})"
            for src, o in self.db.execute(sql, (pipe, *chunk)):
                out.setdefault(src, set()).add(o)
        return out

    def producers(self, pipe: str, outputs: Iterable[str]) -> dict[str, set[str]]:
        """output ``_id`` -> the source ``_id`` s that made it."""
        out: dict[str, set[str]] = {}
        for chunk in _chunks(outputs):
            sql = f"SELECT output, source FROM pipe_lineage WHERE pipe=? AND output IN ({','.join('?' * len(chunk))})"
            for o, src in self.db.execute(sql, (pipe, *chunk)):
                out.setdefault(o, set()).add(src)
        return out

    def set_lineage(self, pipe: str, made: dict[str, Iterable[str]], *, replace_all: bool = False) -> None:
        """Record what each source entity made (replacing its earlier record;
        with ``replace_all`` the pipe's whole lineage is replaced)."""
        db = self.db
        if replace_all:
            db.execute("DELETE FROM pipe_lineage WHERE pipe=?", (pipe,))
        else:
            for chunk in _chunks(made):
                db.execute(f"DELETE FROM pipe_lineage WHERE pipe=? AND source IN ({','.join('?' * len(chunk))})",
                           (pipe, *chunk))
        db.executemany("INSERT OR IGNORE INTO pipe_lineage VALUES (?, ?, ?)",
                       [(pipe, src, o) for src, outs in made.items() for o in outs])


@dataclass
class PipeState:
    """A pipe's position: the config it ran with, the next offset to read in
    each source dataset, and the offset of every dataset its DTL read through
    hops/lookups when it last ran."""

    config_hash: str
    sources: dict[str, int] = field(default_factory=dict)
    dependencies: dict[str, int] = field(default_factory=dict)


def _chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    items = list(ids)
    for i in range(0, len(items), _CHUNK):
        yield items[i:i + _CHUNK]


class Dataset:
    """One dataset of a :class:`Store`: append versions, read by offset or latest."""

    def __init__(self, store: Store, name: str) -> None:
        self.store = store
        self.name = name

    def __repr__(self) -> str:
        return f"<Dataset {self.name!r}>"

    # ------------------------------------------------------------ writing

    def create(self) -> None:
        """Make the dataset exist (populated but possibly empty)."""
        self.store.db.execute("INSERT OR IGNORE INTO datasets VALUES (?, 0)", (self.name,))

    def put(self, entity: dict) -> bool:
        """Store a new version of ``entity`` unless its content hash is unchanged.

        Returns True when a version was stored. A deletion of an entity that
        was never stored (or is already deleted) stores nothing.
        """
        if type(entity) is not dict:
            raise DtlInputError(f"an entity must be a JSON object, got {type(entity).__name__}", code="invalid-entity")
        ident = entity.get("_id")
        if type(ident) is not str:
            raise DtlInputError(f"an entity needs a string _id, got {ident!r}", code="missing-id")
        db = self.store.db
        self.create()
        digest = content_hash(entity)
        row = db.execute(
            "SELECT v.seq, v.hash, v.deleted FROM latest l JOIN versions v ON v.dataset=l.dataset AND v.seq=l.seq "
            "WHERE l.dataset=? AND l.id=?",
            (self.name, ident),
        ).fetchone()
        deleted = entity.get("_deleted") is True
        if row is None and deleted:
            return False
        if row is not None and row[1] == digest:
            return False
        (seq,) = db.execute("SELECT next_seq FROM datasets WHERE dataset=?", (self.name,)).fetchone()
        body = {k: v for k, v in entity.items() if k not in BOOKKEEPING and k != "_deleted"}
        if deleted:
            body["_deleted"] = True
        body["_updated"] = seq
        body["_previous"] = row[0] if row is not None else None
        body["_hash"] = digest
        body["_ts"] = self.store.now_us()
        db.execute(
            "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?)",
            (self.name, seq, ident, digest, int(deleted), json.dumps(body, ensure_ascii=False)),
        )
        db.execute("INSERT OR REPLACE INTO latest VALUES (?, ?, ?)", (self.name, ident, seq))
        db.execute("UPDATE datasets SET next_seq=? WHERE dataset=?", (seq + 1, self.name))
        self.store.writes += 1
        return True

    def put_many(self, entities: Iterable[dict]) -> int:
        """Store each entity; returns how many new versions were stored."""
        n = 0
        for e in entities:
            n += self.put(e)
        return n

    def delete(self, ident: str) -> bool:
        """Store a deletion marker for ``ident`` (keeping its last content)."""
        last = self.get(ident)
        if last is None or last.get("_deleted"):
            return False
        marker = {k: v for k, v in last.items() if k not in BOOKKEEPING}
        marker["_deleted"] = True
        return self.put(marker)

    # ------------------------------------------------------------ reading

    @property
    def offset(self) -> int:
        """The ``_updated`` the next version will get (0 for an empty dataset)."""
        row = self.store.db.execute("SELECT next_seq FROM datasets WHERE dataset=?", (self.name,)).fetchone()
        return row[0] if row else 0

    def since(self, offset: int = 0, *, latest_only: bool = True) -> Iterator[dict]:
        """Versions with ``_updated >= offset`` in order. With ``latest_only``
        (Sesam's default) a version that has been superseded is skipped."""
        if latest_only:
            # A correlated lookup by (dataset, id): written as a join on seq,
            # SQLite scans ``latest`` for every version (quadratic: 34 s for
            # 20k entities).
            sql = (
                "SELECT v.body FROM versions v WHERE v.dataset=? AND v.seq>=? "
                "AND v.seq=(SELECT l.seq FROM latest l WHERE l.dataset=v.dataset AND l.id=v.id) ORDER BY v.seq"
            )
        else:
            sql = "SELECT body FROM versions WHERE dataset=? AND seq>=? ORDER BY seq"
        for (body,) in self.store.db.execute(sql, (self.name, offset)).fetchall():
            yield json.loads(body)

    def latest(self, *, include_deleted: bool = False) -> list[dict]:
        """The latest version of every ``_id``, in ``_updated`` order."""
        return [e for e in self.since(0) if include_deleted or not e.get("_deleted")]

    def get(self, ident: str) -> dict | None:
        """The latest version of ``ident`` (deleted or not), or None."""
        row = self.store.db.execute(
            "SELECT v.body FROM latest l JOIN versions v ON v.dataset=l.dataset AND v.seq=l.seq "
            "WHERE l.dataset=? AND l.id=?",
            (self.name, ident),
        ).fetchone()
        return json.loads(row[0]) if row else None

    def ids(self, *, include_deleted: bool = False) -> set[str]:
        sql = (
            "SELECT l.id FROM latest l JOIN versions v ON v.dataset=l.dataset AND v.seq=l.seq WHERE l.dataset=?"
            + ("" if include_deleted else " AND v.deleted=0")
        )
        return {r[0] for r in self.store.db.execute(sql, (self.name,))}

    def __len__(self) -> int:
        return len(self.ids())


def strip_bookkeeping(entity: dict) -> dict:
    """The entity without ``_updated``/``_previous``/``_hash``/``_ts``."""
    return {k: v for k, v in entity.items() if k not in BOOKKEEPING}


__all__ = ["Store", "Dataset", "PipeState", "content_hash", "strip_bookkeeping", "BOOKKEEPING"]
