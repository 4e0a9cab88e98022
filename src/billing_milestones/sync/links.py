"""The link store: which source milestone is which target milestone, and what each looked like last time.

SQLite (stdlib ``sqlite3``) in WAL mode, one file, schema versioned. Intents are written before each
write to a platform and closed after it, so a crash leaves a trace the next run can reason about. The store
also holds each pair's lease (one writer per pair, see :mod:`.lease`) and a version per pair that every link
change bumps, so a plan made before another run applied can be told apart and refused.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Self

from ..errors import ConfigError
from .lease import DEFAULT_LEASE_TTL, DEFAULT_LEASE_WAIT, Lease, LeaseHolder

__all__ = ["SCHEMA_VERSION", "Intent", "Link", "LinkStore"]

SCHEMA_VERSION: Final = 3

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS links (
    pair_id     TEXT NOT NULL,
    sync_key    TEXT NOT NULL,
    source_key  TEXT NOT NULL,
    target_key  TEXT NOT NULL,
    source_fp   TEXT NOT NULL,
    target_fp   TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    desired_fp  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (pair_id, sync_key)
);
CREATE UNIQUE INDEX IF NOT EXISTS links_by_source ON links (pair_id, source_key);
CREATE UNIQUE INDEX IF NOT EXISTS links_by_target ON links (pair_id, target_key);
CREATE TABLE IF NOT EXISTS intents (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    pair_id     TEXT NOT NULL,
    sync_key    TEXT NOT NULL,
    action      TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
    detail      TEXT,
    created_at  TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX IF NOT EXISTS intents_open ON intents (pair_id, state);
CREATE TABLE IF NOT EXISTS leases (
    pair_id     TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    acquired_at TEXT NOT NULL,
    heartbeat   REAL NOT NULL,
    expires_at  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS pair_versions (
    pair_id     TEXT PRIMARY KEY,
    version     INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS names (
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    value       TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (kind, name)
);
"""


@dataclass(frozen=True)
class Link:
    pair_id: str
    sync_key: str
    source_key: str
    target_key: str
    source_fp: str
    target_fp: str
    updated_at: str = ""
    #: What the target should have held at the last sync; equal now, with neither side changed, means an
    #: accepted difference (target-wins) rather than a change of the pair's settings. Empty: nothing accepted.
    desired_fp: str = ""

    @property
    def target_id(self) -> str:
        """The native id part of ``target_key`` (``platform:container/id``)."""
        return self.target_key.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Intent:
    id: int
    pair_id: str
    sync_key: str
    action: str
    state: str
    detail: str | None
    created_at: str
    finished_at: str | None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


class LinkStore:
    """Links and intents in one SQLite file (``":memory:"`` for tests). Safe to share between threads."""

    def __init__(self, path: str | Path = "milestones-links.sqlite3") -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30.0)
            self._db.row_factory = sqlite3.Row
            with self._lock:
                if self.path != ":memory:":
                    self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.executescript(_SCHEMA)
                self._check_version()
        except sqlite3.Error as exc:
            raise ConfigError(
                f"links: the link store {self.path} cannot be opened as a SQLite file ({exc}); set links in the "
                "config (or MILESTONES_LINKS) to a file in a folder that exists",
                key="links",
            ) from exc

    def _check_version(self) -> None:
        row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None:
            self._db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif int(row["value"]) in (1, 2):
            # v1 -> v2: links remember the desired fingerprint; old links start with none accepted.
            # v2 -> v3: leases and pair versions, new tables the schema script has already created.
            with self._transaction():
                if int(row["value"]) == 1:
                    self._db.execute("ALTER TABLE links ADD COLUMN desired_fp TEXT NOT NULL DEFAULT ''")
                self._db.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION),))
        elif int(row["value"]) != SCHEMA_VERSION:
            raise ConfigError(
                f"link store {self.path} has schema version {row['value']}, this SDK reads version "
                f"{SCHEMA_VERSION}; use a matching SDK version or a new store file",
                key="links",
            )

    # -- links --------------------------------------------------------------------------------------
    def links(self, pair_id: str) -> list[Link]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM links WHERE pair_id=? ORDER BY rowid", (pair_id,)).fetchall()
        return [Link(**dict(row)) for row in rows]

    def get(self, pair_id: str, sync_key: str) -> Link | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM links WHERE pair_id=? AND sync_key=?", (pair_id, sync_key)).fetchone()
        return Link(**dict(row)) if row else None

    def put(self, link: Link, *, intent_id: int | None = None) -> None:
        """Insert or replace a link; closes the intent in the same transaction when given."""
        with self._lock, self._transaction():
            self._db.execute(
                "DELETE FROM links WHERE pair_id=? AND (source_key=? OR target_key=?) AND sync_key<>?",
                (link.pair_id, link.source_key, link.target_key, link.sync_key),
            )
            self._db.execute(
                "INSERT OR REPLACE INTO links (pair_id, sync_key, source_key, target_key, source_fp, target_fp, "
                "updated_at, desired_fp) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    link.pair_id,
                    link.sync_key,
                    link.source_key,
                    link.target_key,
                    link.source_fp,
                    link.target_fp,
                    _now(),
                    link.desired_fp,
                ),
            )
            self._bump(link.pair_id)
            if intent_id is not None:
                self._close_intent(intent_id, "done", None)

    def remove(self, pair_id: str, sync_key: str, *, intent_id: int | None = None) -> None:
        with self._lock, self._transaction():
            self._db.execute("DELETE FROM links WHERE pair_id=? AND sync_key=?", (pair_id, sync_key))
            self._bump(pair_id)
            if intent_id is not None:
                self._close_intent(intent_id, "done", None)

    def version(self, pair_id: str) -> int:
        """How many link changes the pair has seen: a plan remembers it, apply refuses a plan gone stale."""
        with self._lock:
            row = self._db.execute("SELECT version FROM pair_versions WHERE pair_id=?", (pair_id,)).fetchone()
        return int(row["version"]) if row else 0

    def _bump(self, pair_id: str) -> None:
        self._db.execute(
            "INSERT INTO pair_versions (pair_id, version) VALUES (?, 1) "
            "ON CONFLICT(pair_id) DO UPDATE SET version = version + 1",
            (pair_id,),
        )

    # -- leases -------------------------------------------------------------------------------------
    def lease(
        self,
        pair_id: str,
        *,
        owner: str | None = None,
        ttl: float = DEFAULT_LEASE_TTL,
        wait: float = DEFAULT_LEASE_WAIT,
    ) -> Lease:
        """The pair's lease, not yet taken: ``with store.lease(pair.id, wait=30):`` holds it for a run."""
        return Lease(self, pair_id, owner=owner, ttl=ttl, wait=wait)

    def try_lease(self, pair_id: str, owner: str, ttl: float) -> LeaseHolder:
        now = time.time()
        with self._lock, self._transaction():
            self._db.execute(
                "INSERT INTO leases (pair_id, owner, acquired_at, heartbeat, expires_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(pair_id) DO UPDATE SET owner=excluded.owner, acquired_at=excluded.acquired_at, "
                "heartbeat=excluded.heartbeat, expires_at=excluded.expires_at "
                "WHERE leases.owner=excluded.owner OR leases.expires_at<=excluded.heartbeat",
                (pair_id, owner, _now(), now, now + ttl),
            )
            row = self._db.execute("SELECT owner, expires_at FROM leases WHERE pair_id=?", (pair_id,)).fetchone()
        return LeaseHolder(pair_id, str(row["owner"]), float(row["expires_at"]))

    def renew_lease(self, pair_id: str, owner: str, ttl: float) -> bool:
        now = time.time()
        with self._lock:
            cur = self._db.execute(
                "UPDATE leases SET heartbeat=?, expires_at=? WHERE pair_id=? AND owner=? AND expires_at>?",
                (now, now + ttl, pair_id, owner, now),
            )
        return cur.rowcount == 1

    def release_lease(self, pair_id: str, owner: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM leases WHERE pair_id=? AND owner=?", (pair_id, owner))

    def lease_holder(self, pair_id: str) -> LeaseHolder | None:
        """Who holds the pair's lease now (None when it is free or expired)."""
        with self._lock:
            row = self._db.execute(
                "SELECT owner, expires_at FROM leases WHERE pair_id=? AND expires_at>?", (pair_id, time.time())
            ).fetchone()
        return LeaseHolder(pair_id, str(row["owner"]), float(row["expires_at"])) if row else None

    # -- intents ------------------------------------------------------------------------------------
    def begin(self, pair_id: str, sync_key: str, action: str, detail: str | None = None) -> int:
        """Record that a write is about to happen; the row stays 'pending' if we crash before it is done."""
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO intents (pair_id, sync_key, action, state, detail, created_at) "
                "VALUES (?, ?, ?, 'pending', ?, ?)",
                (pair_id, sync_key, action, detail, _now()),
            )
            return int(cur.lastrowid or 0)

    def finish(self, intent_id: int, *, error: str | None = None) -> None:
        with self._lock:
            self._close_intent(intent_id, "failed" if error else "done", error)

    def _close_intent(self, intent_id: int, state: str, detail: str | None) -> None:
        self._db.execute(
            "UPDATE intents SET state=?, finished_at=?, detail=COALESCE(?, detail) WHERE id=?",
            (state, _now(), detail, intent_id),
        )

    def pending(self, pair_id: str | None = None) -> list[Intent]:
        """Writes that started and never finished: the trace of a crash."""
        query = "SELECT * FROM intents WHERE state='pending'"
        args: tuple[str, ...] = ()
        if pair_id is not None:
            query += " AND pair_id=?"
            args = (pair_id,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY id", args).fetchall()
        return [Intent(**dict(row)) for row in rows]

    def resolve_pending(self, pair_id: str) -> int:
        """Close a crashed run's intents once a new plan has accounted for them."""
        with self._lock:
            cur = self._db.execute(
                "UPDATE intents SET state='failed', finished_at=?, detail=COALESCE(detail, '') || ' (recovered)' "
                "WHERE pair_id=? AND state='pending'",
                (_now(), pair_id),
            )
            return cur.rowcount

    # -- names ------------------------------------------------------------------------------------
    def recall(self, kind: str, name: str) -> str | None:
        """A value remembered under a name, e.g. the estimation id of a crm.com draft named in the config."""
        with self._lock:
            row = self._db.execute("SELECT value FROM names WHERE kind=? AND name=?", (kind, name)).fetchone()
        return str(row["value"]) if row else None

    def remember(self, kind: str, name: str, value: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO names (kind, name, value, updated_at) VALUES (?, ?, ?, ?)",
                (kind, name, value, _now()),
            )

    # -- lifecycle ----------------------------------------------------------------------------------
    def _transaction(self) -> _Tx:
        return _Tx(self._db)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Link]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM links ORDER BY rowid").fetchall()
        return iter([Link(**dict(row)) for row in rows])


class _Tx:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")
