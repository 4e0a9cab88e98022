"""``milestones links migrate``: copy a whole link store to another backend without losing a row.

Moving from the embedded SQLite file to PostgreSQL (or back) must keep every link (a lost link means a
second copy of that milestone on the next sync), every open intent (the trace of a crash), the pair versions
(a plan made before the move is still refused as stale), the remembered names and the run history. Rows
are copied as they are, ids included, table by table; the destination must be empty, so two stores are
never merged by accident.

A SQLite source is never written, nor is its folder (:mod:`._readonly`): it is opened with SQLite's own
read-only means, so a store on a read-only backup or snapshot, in a folder the user cannot write, or owned by
another user is copied as any other, and is left byte for byte as it was. A SQLite store of an older schema
version is copied first (SQLite's backup API) to a temporary file and that copy upgraded, so the copy has
the new shape; a PostgreSQL one is upgraded in place, as any opener upgrades it. A source that holds no link
store is refused before anything opens it as one: opening creates the tables, so a mistyped database or
search_path would be copied as an empty store and reported as a success, and syncs moved to that copy create
every milestone again.

Nothing is half-copied. The source is read as of one moment (a SQLite file under its read lock, or, with no
connection open on it, read as immutable and refused if it was written meanwhile; PostgreSQL's REPEATABLE
READ snapshot), so a run that links a milestone and closes its intent between the reading of two tables is
not copied as a closed intent without its link; and a source whose lease is live (a sync is running, or was
killed less than a lease's ttl ago) is refused, as what that sync writes next would be missing from the copy.
The destination is written in one transaction: an error on any row, or the process killed, leaves it empty,
and the same command run again fills it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

from ...errors import ConfigError, PairBusyError
from ._backend import Row
from ._model import TABLES
from ._readonly import no_link_store, read_only
from ._url import StoreTarget, lasting, parse_target
from .linkstore import LinkStore, open_backend

__all__ = ["copy_store"]

#: How a store's own refusal says to fix it (:mod:`._sqlite`); migrate reads no config, so its option instead.
_CONFIG_FIX = "set links in the config (or BILLING_MILESTONES_LINKS) to"


def copy_store(source: str | Path, destination: str | Path) -> dict[str, int]:
    """Copy every table of ``source`` into the empty store ``destination``; rows copied per table."""
    src_target = _home(parse_target(source, key="--from"))
    dst_target = _home(lasting(parse_target(destination, key="--to"), "--to"))
    if src_target == dst_target or _same_file(src_target, dst_target):
        raise ConfigError("--to: the destination is the source; name another store", key="--to")
    if src_target.kind == "sqlite" and not Path(src_target.location).is_file():
        raise ConfigError(f"--from: no link store at {src_target.location}", key="--from")
    if src_target.kind == "sqlite":
        tables = read_only(src_target.location, lambda src: _read(src, src_target.display))
    else:
        _require_store(src_target)
        with _named("--from"):
            src = LinkStore(source)
        with src:
            tables = _read(src, src_target.display)
    with _named("--to"):
        dst = LinkStore(destination if dst_target.kind == "postgresql" else Path(dst_target.location))
    with dst:
        if dst.kind == "postgresql":
            _refuse_nul(tables)
        with dst.backend.transaction():
            filled = [table for table in TABLES if dst.dump(table)]
            if filled:
                raise ConfigError(
                    f"--to: the store {dst.path} already holds rows ({', '.join(filled)}); migrate into an empty store",
                    key="--to",
                )
            for table, rows in tables.items():
                dst.load(table, rows)
    return {table: len(rows) for table, rows in tables.items()}


def _home(target: StoreTarget) -> StoreTarget:
    """A SQLite target's leading ``~`` as the home folder, as in ``links`` and ``BILLING_MILESTONES_LINKS``
    (no shell expands it inside ``sqlite:///~/links.db``, or after ``--to=``)."""
    if target.kind != "sqlite":
        return target
    return StoreTarget("sqlite", os.path.expanduser(target.location))


def _same_file(source: StoreTarget, destination: StoreTarget) -> bool:
    """Whether two SQLite targets spelt apart (``links.db``, ``./links.db``, its absolute path, a symlink or
    hard link to it) are one file. Opened as the destination it was written before being refused as holding
    rows: an older schema version's source was upgraded in place, which an older SDK then refuses."""
    if source.kind != "sqlite" or destination.kind != "sqlite":
        return False
    try:
        return os.path.samefile(source.location, destination.location)
    except OSError:  # the destination does not exist yet (the source was checked to be a file)
        return False


def _read(src: LinkStore, shown: str) -> dict[str, list[Row]]:
    """Every table of the source as of one moment, refused while a sync holds a pair's lease. ``shown``
    names the source (``src`` may be an upgraded copy of it)."""
    with src.backend.transaction():
        if src.kind == "postgresql":  # the first statement of the transaction: one snapshot for every read
            src.backend.rows("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        tables = {table: src.dump(table) for table in TABLES}
        now = src.backend.clock()
    live = [lease for lease in tables["leases"] if float(lease["expires_at"]) > now]
    if live:
        # The CLI's "another run holds the pair's lease: nothing was written" (exit 3): try again later.
        held = ", ".join(f"{lease['pair_id']} (held by {lease['owner']})" for lease in live)
        first = live[0]
        raise PairBusyError(
            f"--from: a sync is running on {shown}: {held}; nothing was copied. Stop the syncs (a killed "
            "run's lease lapses within its ttl) and migrate again",
            pair_id=str(first["pair_id"]),
            owner=str(first["owner"]),
            expires_at=dt.datetime.fromtimestamp(float(first["expires_at"]), dt.UTC).isoformat(timespec="seconds"),
        )
    return tables


def _refuse_nul(tables: dict[str, list[Row]]) -> None:
    """PostgreSQL's text holds no NUL character, which SQLite's may: a row with one would stop the copy with
    the driver's error, naming neither the row nor what to do. Named here, before anything is written."""
    for table, rows in tables.items():
        for row in rows:
            for column, value in row.items():
                if isinstance(value, str) and "\x00" in value:
                    ident = ", ".join(f"{key} {row[key]!r}" for key in ("id", "pair_id", "sync_key") if key in row)
                    raise ConfigError(
                        f"--from: {table} row ({ident}) holds a NUL character in {column}, which PostgreSQL "
                        "text cannot store; nothing was copied. Remove it from that row of the source, then "
                        "migrate again",
                        key="--from",
                    )


@contextlib.contextmanager
def _named(option: str) -> Iterator[None]:
    """A store's own refusal (unreachable, unreadable, a newer schema version) names ``links``, the config
    key; here the option that named that store is the one to fix."""
    try:
        yield
    except ConfigError as exc:
        if exc.key != "links":
            raise
        # The store's own fix names the config key and variable, which migrate reads neither of.
        message = exc.message.removeprefix("links: ").replace(_CONFIG_FIX, f"give {option}")
        raise ConfigError(f"{option}: {message}", key=option) from None


def _require_store(target: StoreTarget) -> None:
    """Refuse a PostgreSQL source that holds no link store (no schema version recorded), reading it without
    creating anything in it (a SQLite one is checked as it is opened read-only)."""
    with _named("--from"):
        backend = open_backend(target.location)
    try:
        # Where an opener reads and makes its tables: the path's first schema, not any schema along it.
        (row,) = backend.rows("SELECT to_regclass(quote_ident(current_schema()) || '.meta') IS NOT NULL AS found")
        found = bool(row["found"]) and bool(backend.rows("SELECT 1 FROM meta WHERE key='schema_version'"))
    finally:
        backend.close()
    if not found:
        raise no_link_store(target.display)
