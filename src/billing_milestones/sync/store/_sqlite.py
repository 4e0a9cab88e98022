"""The embedded backend: one SQLite file (stdlib ``sqlite3``) in WAL mode, the default for one machine.

Writers take the whole file (``BEGIN IMMEDIATE``), so a lease read-and-take is atomic without row locks;
leases run on this machine's clock, which every process on it shares.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any, Final

from ...errors import ConfigError
from ._backend import Row

__all__ = ["SQLiteBackend"]

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
CREATE INDEX IF NOT EXISTS intents_pending ON intents (pair_id) WHERE state = 'pending';
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
CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    pair_id     TEXT NOT NULL,
    worker      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    created     INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    deleted     INTEGER NOT NULL DEFAULT 0,
    adopted     INTEGER NOT NULL DEFAULT 0,
    conflicts   INTEGER NOT NULL DEFAULT 0,
    ok          INTEGER NOT NULL,
    error       TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_pair ON runs (pair_id, id);
CREATE INDEX IF NOT EXISTS runs_open ON runs (pair_id) WHERE finished_at = '';
"""


#: How long an opener or writer waits for another connection's lock on the file.
_BUSY_TIMEOUT: Final = 30.0


def _use_wal(db: sqlite3.Connection, timeout: float) -> None:
    """Put the file in WAL mode (readers do not wait for the writer). Switching a file's journal mode needs
    it to itself, and SQLite answers SQLITE_BUSY at once, without its busy wait, while another opener of the
    same new file holds it: wait and retry, up to the busy timeout, as any other lock is waited for."""
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorname != "SQLITE_BUSY" or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


class SQLiteBackend:
    """One SQLite file (``":memory:"`` for tests), shared between threads under one lock."""

    kind = "sqlite"
    link_order = "rowid"
    text_order = ""
    for_update = ""
    #: How a transaction begins: taking the write lock at once, so a lease read-and-take is atomic. A
    #: read-only connection (``links migrate``'s source, :mod:`._readonly`) cannot take it and reads instead.
    _begin = "BEGIN IMMEDIATE"

    def __init__(self, path: str) -> None:
        self.display = path
        self._lock = threading.RLock()
        self._depth = 0
        try:
            self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=_BUSY_TIMEOUT)
            self.db.row_factory = sqlite3.Row
            if path != ":memory:":
                _use_wal(self.db, _BUSY_TIMEOUT)
            self.db.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            raise ConfigError(
                f"links: the link store {path} cannot be opened as a SQLite file ({exc}); set links in the "
                "config (or BILLING_MILESTONES_LINKS) to a file in a folder that exists",
                key="links",
            ) from exc

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        with self._lock:
            return [dict(row) for row in self.db.execute(sql, tuple(args)).fetchall()]

    def count(self, sql: str, args: Sequence[Any] = ()) -> int:
        with self._lock:
            return self.db.execute(sql, tuple(args)).rowcount

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._lock:
            self.db.executemany(sql, [tuple(row) for row in rows])

    def batch(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        with self.transaction():
            for sql, args in statements:
                self.db.execute(sql, tuple(args))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            outer = self._depth == 0
            if outer:
                self.db.execute(self._begin)
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outer:
                    self._rollback()
                raise
            self._depth -= 1
            if outer:
                self._commit()

    def _commit(self) -> None:
        """COMMIT, or on its failure ROLLBACK: a COMMIT SQLite refuses (``SQLITE_BUSY``, a full disk) leaves the
        transaction open, and every later write of this connection would join it, never to be committed."""
        try:
            self.db.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        """ROLLBACK the transaction still open: SQLite has already rolled back on some errors (a full disk, an
        I/O error, an interrupt), and a ROLLBACK then would raise in place of the error that caused it."""
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    @contextlib.contextmanager
    def schema(self) -> Iterator[None]:
        # One opener at a time creates, versions or migrates the file: the script runs in a write transaction
        # (BEGIN IMMEDIATE waits out another opener's, up to the busy timeout) that stays open over the
        # caller's version check, so two openers of a new file cannot both find no version row and both
        # insert one, nor two openers of an old one both migrate it.
        with self._lock:
            try:
                self.db.executescript(f"BEGIN IMMEDIATE;\n{_SCHEMA}")
            except sqlite3.Error as exc:
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                raise ConfigError(
                    f"links: the link store {self.display} cannot be opened as a SQLite file ({exc}); set links "
                    "in the config (or BILLING_MILESTONES_LINKS) to a file in a folder that exists",
                    key="links",
                ) from exc
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                self._rollback()
                raise
            self._depth -= 1
            self._commit()

    def clock(self) -> float:
        return time.time()

    def after_load(self, table: str) -> None:
        """AUTOINCREMENT follows the largest id written, explicit or not: nothing to move."""

    def reusable(self) -> bool:
        return False  # opening a file is cheap, and nothing shares a SQLite store between runs

    def close(self) -> None:
        with self._lock:
            self.db.close()
