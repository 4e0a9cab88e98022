"""The link store: which source milestone is which target milestone, and what each looked like last time.

One class over two backends (:mod:`._sqlite`, the embedded default; :mod:`._postgres`, shared by many
workers), picked by the target: a path or ``sqlite:///path``, or ``postgresql://...``. Intents are written
before each write to a platform and closed after it, so a crash leaves a trace the next run can reason about.
The store also holds each pair's lease (one writer per pair, see :mod:`..lease`), a version per pair that
every link change bumps (so a plan made before another run applied can be refused), and the run history.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Self

from ...errors import ConfigError
from ..lease import DEFAULT_LEASE_TTL, DEFAULT_LEASE_WAIT, Lease, LeaseHolder
from ._backend import Backend, Row
from ._model import SCHEMA_VERSION, TABLES, Intent, Link, RunRecord, now_text
from ._pg_statements import (
    begin_many_statement,
    distinct_keys,
    pair_lock_statement,
    put_set_statements,
    renew_lease_statement,
    try_lease_statement,
)
from ._url import parse_target
from ._values import checked_count, checked_keys, checked_link, checked_writes, message

__all__ = ["LinkStore", "open_backend"]

_LINK_COLUMNS = ", ".join(TABLES["links"])
_RUN_COLUMNS = ", ".join(TABLES["runs"][1:])
#: Indexes of schema versions before 5, dropped when a store is upgraded (never created since).
_REPLACED_INDEXES = ("intents_open", "links_in_order")
#: Intents begun by one statement at most (4 values each: well under SQLite's 999 bound variables).
_BEGIN_CHUNK = 200


def open_backend(target: str | Path) -> Backend:
    """The backend a target names, connected."""
    parsed = parse_target(target)
    if parsed.kind == "postgresql":
        from ._postgres import PostgresBackend

        return PostgresBackend(parsed.location)
    from ._sqlite import SQLiteBackend

    return SQLiteBackend(parsed.location)


def _bump(pair_id: str) -> tuple[str, Sequence[Any]]:
    """The statement that counts one more link change of the pair (plans made before it are stale)."""
    return (
        "INSERT INTO pair_versions (pair_id, version) VALUES (?, 1) "
        "ON CONFLICT(pair_id) DO UPDATE SET version = pair_versions.version + 1",
        (pair_id,),
    )


def _close_intent(intent_id: int, state: str, detail: str | None, now: str = "") -> tuple[str, Sequence[Any]]:
    return (
        "UPDATE intents SET state=?, finished_at=?, detail=COALESCE(?, detail) WHERE id=?",
        (state, now or now_text(), message(detail), intent_id),
    )


class LinkStore:
    """Links, intents, leases and runs in one store. Safe to share between threads.

    ``LinkStore("links.sqlite3")``, ``LinkStore(":memory:")`` (tests), ``LinkStore("postgresql://h/db")``.
    """

    def __init__(self, path: str | Path = "milestones-links.sqlite3") -> None:
        self.backend: Backend = open_backend(path)
        #: Where the store is, as it may be shown (a PostgreSQL password never appears).
        self.path = self.backend.display
        try:
            with self.backend.schema():
                self._check_version()
        except BaseException:
            self.backend.close()
            raise

    @classmethod
    def reading(cls, backend: Backend) -> Self:
        """A store over an open backend as it is: its tables neither created nor upgraded, as opening does.
        For ``links migrate``'s SQLite source, opened read-only, whose caller has checked its version."""
        store = cls.__new__(cls)
        store.backend, store.path = backend, backend.display
        return store

    @property
    def kind(self) -> str:
        """``"sqlite"`` or ``"postgresql"``: whether this store can be shared by workers on several machines."""
        return self.backend.kind

    def _check_version(self) -> None:
        rows = self.backend.rows("SELECT value FROM meta WHERE key='schema_version'")
        if not rows:
            self.backend.count("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            return
        found = int(rows[0]["value"])
        if found in (1, 2, 3, 4):
            # v1 -> v2: links remember the desired fingerprint; old links start with none accepted.
            # v2 -> v3 (leases, pair versions) and v3 -> v4 (runs): new tables the schema has just created.
            # v4 -> v5: the schema has just built the open intents' index; the indexes it replaces go.
            with self.backend.transaction():
                if found == 1:
                    self.backend.count("ALTER TABLE links ADD COLUMN desired_fp TEXT NOT NULL DEFAULT ''")
                for index in _REPLACED_INDEXES:
                    self.backend.count(f"DROP INDEX IF EXISTS {index}")
                self.backend.count("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION),))
        elif found != SCHEMA_VERSION:
            raise ConfigError(
                f"link store {self.path} has schema version {found}, this SDK reads version "
                f"{SCHEMA_VERSION}; use a matching SDK version or a new store",
                key="links",
            )

    def schema_version(self) -> int:
        return int(self.backend.rows("SELECT value FROM meta WHERE key='schema_version'")[0]["value"])

    # -- links --------------------------------------------------------------------------------------
    def links(self, pair_id: str) -> list[Link]:
        checked_keys(pair_id=pair_id)  # a lookup of what no backend keeps is refused as its write is
        order = self.backend.link_order
        rows = self.backend.rows(f"SELECT {_LINK_COLUMNS} FROM links WHERE pair_id=? ORDER BY {order}", (pair_id,))
        # A re-sync holds every link of its pair (100,000 in a large one): they share the one pair id text
        # (the rows matched it exactly) instead of a copy a row, 68 bytes a link at a typical pair id.
        for row in rows:
            row["pair_id"] = pair_id
        return [Link(**row) for row in rows]

    def link_pages(self, pair_id: str, size: int = 5000) -> Iterator[list[Link]]:
        """The pair's links as :meth:`links` gives them (same order), ``size`` at a time, each page read as
        it is asked for: a planner that keeps each link compact never holds the backend's rows of all
        100,000 (a dict and eight texts each). Pages are separate reads: a caller that must not plan from
        links changed in between reads :meth:`version` first (a plan's version then refuses to apply)."""
        order = self.backend.link_order
        sql = (
            f"SELECT {order} AS _at, {_LINK_COLUMNS} FROM links WHERE pair_id=? AND {order}>? ORDER BY {order} LIMIT ?"
        )
        checked_count("size", size, least=1)
        checked_keys(pair_id=pair_id)
        after = -1
        while True:
            rows = self.backend.rows(sql, (pair_id, after, size))
            if not rows:
                return
            after = rows[-1]["_at"]
            for row in rows:
                del row["_at"]
                row["pair_id"] = pair_id
            yield [Link(**row) for row in rows]
            if len(rows) < size:
                return

    def get(self, pair_id: str, sync_key: str) -> Link | None:
        checked_keys(pair_id=pair_id, sync_key=sync_key)
        rows = self.backend.rows(
            f"SELECT {_LINK_COLUMNS} FROM links WHERE pair_id=? AND sync_key=?", (pair_id, sync_key)
        )
        return Link(**rows[0]) if rows else None

    def put(self, link: Link, *, intent_id: int | None = None) -> None:
        """Insert or replace a link (one per source and per target); closes the intent in the same transaction."""
        self._write_links([link.pair_id], self._put_statements(checked_link(link), intent_id, now_text()))

    def _write_links(self, pair_ids: Sequence[str], statements: list[tuple[str, Sequence[Any]]]) -> None:
        """A batch of link changes, on PostgreSQL after any other writer of its pairs has committed (SQLite's
        writers take the whole file), so a second writer of a key replaces the first's link as on SQLite."""
        if self.backend.kind == "postgresql":
            statements = [pair_lock_statement(pair_ids), *statements]
        self.backend.batch(statements)

    @staticmethod
    def _put_statements(link: Link, intent_id: int | None, now: str = "") -> list[tuple[str, Sequence[Any]]]:
        """One link's put, stamped ``now``: a batch's links share one stamp, as PostgreSQL's batch function's.
        The link is checked by its caller (``checked_link``: a batch's, every link before any statement)."""
        statements: list[tuple[str, Sequence[Any]]] = [
            (
                "DELETE FROM links WHERE pair_id=? AND (source_key=? OR target_key=? OR sync_key=?)",
                (link.pair_id, link.source_key, link.target_key, link.sync_key),
            ),
            (
                f"INSERT INTO links ({_LINK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    link.pair_id,
                    link.sync_key,
                    link.source_key,
                    link.target_key,
                    link.source_fp,
                    link.target_fp,
                    now or now_text(),
                    link.desired_fp,
                ),
            ),
            _bump(link.pair_id),
        ]
        if intent_id is not None:
            statements.append(_close_intent(intent_id, "done", None, now))
        return statements

    def put_many(self, items: Sequence[tuple[Link, int | None]]) -> None:
        """:meth:`put` for each ``(link, intent_id)``, all in one transaction (one round trip on PostgreSQL):
        a batch of creates is linked at once, or (a failure) not at all, its intents left open as a crash
        leaves them for the next run to find by sync key."""
        if not items:
            return
        for link, _ in items:  # every link checked before any is written
            checked_link(link)
        if self.backend.kind == "postgresql" and distinct_keys(items):
            self.backend.batch(put_set_statements(items, now_text()))
            return
        statements: list[tuple[str, Sequence[Any]]] = []
        now = now_text()
        for link, intent_id in items:
            statements += self._put_statements(link, intent_id, now)
        self._write_links([link.pair_id for link, _ in items], statements)

    def remove(self, pair_id: str, sync_key: str, *, intent_id: int | None = None) -> None:
        checked_keys(pair_id=pair_id, sync_key=sync_key)  # not a version counted for a link never kept
        statements: list[tuple[str, Sequence[Any]]] = [
            ("DELETE FROM links WHERE pair_id=? AND sync_key=?", (pair_id, sync_key)),
            _bump(pair_id),
        ]
        if intent_id is not None:
            statements.append(_close_intent(intent_id, "done", None))
        self._write_links([pair_id], statements)

    def version(self, pair_id: str) -> int:
        """How many link changes the pair has seen: a plan remembers it, apply refuses a plan gone stale."""
        checked_keys(pair_id=pair_id)
        rows = self.backend.rows("SELECT version FROM pair_versions WHERE pair_id=?", (pair_id,))
        return int(rows[0]["version"]) if rows else 0

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
        """Take the lease when it is free, expired or ours: read under a row lock, then written, in one
        transaction, so two runs racing for a pair see one winner (on PostgreSQL: one statement that locks the
        row it conflicts with)."""
        checked_keys(pair_id=pair_id, owner=owner)
        if self.backend.kind == "postgresql":
            (won,) = self.backend.rows(*try_lease_statement(pair_id, owner, ttl, now_text()))
            return LeaseHolder(pair_id, str(won["owner"]), float(won["expires_at"]))
        with self.backend.transaction():
            now = self.backend.clock()
            held = self.backend.rows(
                "SELECT owner, expires_at FROM leases WHERE pair_id=?" + self.backend.for_update, (pair_id,)
            )
            if not held:
                self.backend.count(
                    "INSERT INTO leases (pair_id, owner, acquired_at, heartbeat, expires_at) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT(pair_id) DO NOTHING",
                    (pair_id, owner, now_text(), now, now + ttl),
                )
            elif held[0]["owner"] == owner or float(held[0]["expires_at"]) <= now:
                self.backend.count(
                    "UPDATE leases SET owner=?, acquired_at=?, heartbeat=?, expires_at=? WHERE pair_id=?",
                    (owner, now_text(), now, now + ttl, pair_id),
                )
            (row,) = self.backend.rows("SELECT owner, expires_at FROM leases WHERE pair_id=?", (pair_id,))
        return LeaseHolder(pair_id, str(row["owner"]), float(row["expires_at"]))

    def renew_lease(self, pair_id: str, owner: str, ttl: float) -> bool:
        if self.backend.kind == "postgresql":  # one statement, by the server's clock
            return self.backend.count(*renew_lease_statement(pair_id, owner, ttl)) == 1
        now = self.backend.clock()
        return (
            self.backend.count(
                "UPDATE leases SET heartbeat=?, expires_at=? WHERE pair_id=? AND owner=? AND expires_at>?",
                (now, now + ttl, pair_id, owner, now),
            )
            == 1
        )

    def release_lease(self, pair_id: str, owner: str) -> None:
        self.backend.count("DELETE FROM leases WHERE pair_id=? AND owner=?", (pair_id, owner))

    def lease_holder(self, pair_id: str) -> LeaseHolder | None:
        """Who holds the pair's lease now (None when it is free or expired)."""
        rows = self.backend.rows(
            "SELECT owner, expires_at FROM leases WHERE pair_id=? AND expires_at>?", (pair_id, self.backend.clock())
        )
        return LeaseHolder(pair_id, str(rows[0]["owner"]), float(rows[0]["expires_at"])) if rows else None

    # -- intents ------------------------------------------------------------------------------------
    def begin(self, pair_id: str, sync_key: str, action: str, detail: str | None = None) -> int:
        """Record that a write is about to happen; the row stays 'pending' if we crash before it is done."""
        checked_writes(pair_id, [(sync_key, action)])
        (row,) = self.backend.rows(
            "INSERT INTO intents (pair_id, sync_key, action, state, detail, created_at) "
            "VALUES (?, ?, ?, 'pending', ?, ?) RETURNING id",
            (pair_id, sync_key, action, message(detail), now_text()),
        )
        return int(row["id"])

    def begin_many(self, pair_id: str, writes: Sequence[tuple[str, str]]) -> list[int]:
        """:meth:`begin` for each ``(sync_key, action)`` of a batch about to be written, in one statement
        per chunk (committed before it returns, as each ``begin`` is); their ids, in the order given."""
        keys = [key for key, _ in checked_writes(pair_id, writes)]
        if len(set(keys)) != len(keys):  # ids are matched back by sync key; a repeat is begun one by one
            return [self.begin(pair_id, key, action) for key, action in writes]
        found: dict[str, int] = {}
        if self.backend.kind == "postgresql" and writes:  # one statement, its values as one JSON text
            rows = self.backend.rows(*begin_many_statement(pair_id, writes, now_text()))
            found.update({str(row["sync_key"]): int(row["id"]) for row in rows})
            return [found[key] for key in keys]
        for start in range(0, len(writes), _BEGIN_CHUNK):
            chunk = writes[start : start + _BEGIN_CHUNK]
            now = now_text()
            values = ", ".join("(?, ?, ?, 'pending', NULL, ?)" for _ in chunk)
            args = [value for key, action in chunk for value in (pair_id, key, action, now)]
            rows = self.backend.rows(
                "INSERT INTO intents (pair_id, sync_key, action, state, detail, created_at) "
                f"VALUES {values} RETURNING id, sync_key",
                args,
            )
            found.update({str(row["sync_key"]): int(row["id"]) for row in rows})
        return [found[key] for key in keys]

    def finish(self, intent_id: int, *, error: str | None = None) -> None:
        self.backend.count(*_close_intent(intent_id, "failed" if error else "done", error))

    def pending(self, pair_id: str | None = None) -> list[Intent]:
        """Writes that started and never finished: the trace of a crash."""
        columns = ", ".join(TABLES["intents"])
        query = f"SELECT {columns} FROM intents WHERE state='pending'"
        args: tuple[str, ...] = ()
        if pair_id is not None:
            checked_keys(pair_id=pair_id)
            query += " AND pair_id=?"
            args = (pair_id,)
        return [Intent(**row) for row in self.backend.rows(query + " ORDER BY id", args)]

    def resolve_pending(self, pair_id: str) -> int:
        """Close a crashed run's intents once a new plan has accounted for them."""
        return self.backend.count(
            "UPDATE intents SET state='failed', finished_at=?, detail=COALESCE(detail, '') || ' (recovered)' "
            "WHERE pair_id=? AND state='pending'",
            (now_text(), pair_id),
        )

    # -- names ------------------------------------------------------------------------------------
    def recall(self, kind: str, name: str) -> str | None:
        """A value remembered under a name, e.g. the estimation id of a crm.com draft named in the config."""
        checked_keys(kind=kind, name=name)
        rows = self.backend.rows("SELECT value FROM names WHERE kind=? AND name=?", (kind, name))
        return str(rows[0]["value"]) if rows else None

    def remember(self, kind: str, name: str, value: str) -> None:
        checked_keys(kind=kind, name=name, value=value)
        self.backend.count(
            "INSERT INTO names (kind, name, value, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(kind, name) DO UPDATE SET value=excluded.value, updated_at=excluded.updated_at",
            (kind, name, value, now_text()),
        )

    def forget(self, kind: str, *names: str) -> None:
        """Drop remembered values (a persisted metadata entry gone stale); a name never remembered is no error."""
        for name in names:
            checked_keys(kind=kind, name=name)
            self.backend.count("DELETE FROM names WHERE kind=? AND name=?", (kind, name))

    # -- run history --------------------------------------------------------------------------------
    def record_run(self, run: RunRecord) -> int:
        """Add one finished run to the history; its id."""
        checked_keys(pair_id=run.pair_id, worker=run.worker)
        (row,) = self.backend.rows(
            f"INSERT INTO runs ({_RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                run.pair_id,
                run.worker,
                run.started_at,
                run.finished_at,
                run.created,
                run.updated,
                run.deleted,
                run.adopted,
                run.conflicts,
                int(run.ok),
                message(run.error),
            ),
        )
        return int(row["id"])

    def runs(self, pair_id: str | None = None, *, limit: int = 50) -> list[RunRecord]:
        """The latest runs, newest first (of one pair, or of all)."""
        checked_count("limit", limit, least=0)
        where, args = ("WHERE pair_id=? ", (pair_id, limit)) if pair_id is not None else ("", (limit,))
        columns = ", ".join(TABLES["runs"])
        rows = self.backend.rows(f"SELECT {columns} FROM runs {where}ORDER BY id DESC LIMIT ?", args)
        return [RunRecord(**{**row, "ok": bool(row["ok"])}) for row in rows]

    # -- whole tables (links migrate) -----------------------------------------------------------------
    def dump(self, table: str) -> list[Row]:
        """Every row of one table: links and ids in the order written, the rest by key (texts by code point)."""
        columns, text = TABLES[table], self.backend.text_order
        by_key = "id" if "id" in columns else f"{columns[0]}{text}"
        order = {"links": self.backend.link_order, "names": f"kind{text}, name{text}"}.get(table, by_key)
        return self.backend.rows(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}")

    def load(self, table: str, rows: Sequence[Row]) -> None:
        """Write rows as they are (ids included) into one table, in one transaction."""
        columns = TABLES[table]
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        with self.backend.transaction():
            self.backend.many(sql, [[row[c] for c in columns] for row in rows])
        self.backend.after_load(table)

    # -- lifecycle ----------------------------------------------------------------------------------
    def reusable(self) -> bool:
        """Whether this store may serve another run (a pool of a worker's stores asks; SQLite: never)."""
        return self.backend.reusable()

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Link]:
        rows = self.backend.rows(f"SELECT {_LINK_COLUMNS} FROM links ORDER BY {self.backend.link_order}")
        return iter([Link(**row) for row in rows])

    def __repr__(self) -> str:
        return f"LinkStore({self.path!r})"

    def _raw(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        """For tests and tools: one statement on the backend (``?`` placeholders)."""
        return self.backend.rows(sql, args)
