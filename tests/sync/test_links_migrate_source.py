"""What ``links migrate`` copies from: a store of this schema version or an older one (a SQLite one copied
and that copy upgraded, so the copy has the new shape), never a database that holds no link store (a
mistyped URL would copy nothing and report success, and the syncs moved to the empty copy would create every
milestone again), and a store of a newer version is refused by the option that named it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from billing_milestones.errors import ConfigError
from billing_milestones.sync import Link, LinkStore
from billing_milestones.sync.store._model import SCHEMA_VERSION, TABLES
from billing_milestones.sync.store.migrate import copy_store

from .._postgres import PostgresServer, fresh_database
from ._old_stores import VERSION_1_SCHEMA
from .test_links_migrate import every_row


def has_tables(url: str) -> bool:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT to_regclass('meta') IS NOT NULL OR to_regclass('links') IS NOT NULL").fetchone()
    return bool(row and row[0])


def test_a_postgresql_database_without_a_store_is_refused_and_left_as_it_was(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    empty = fresh_database(postgres_server)  # e.g. the right server, the wrong database or search_path
    with pytest.raises(ConfigError, match="no link store") as info:
        copy_store(empty, tmp_path / "b.db")
    assert info.value.key == "--from" and not has_tables(empty) and not (tmp_path / "b.db").exists()


def test_a_sqlite_file_without_a_store_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE notes (body TEXT)")
    db.close()
    with pytest.raises(ConfigError, match="no link store") as info:
        copy_store(other, tmp_path / "b.db")
    assert info.value.key == "--from" and not (tmp_path / "b.db").exists()
    with sqlite3.connect(other) as db:
        assert [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")] == ["notes"]
    db.close()


def test_a_newer_store_is_refused_by_the_option_that_names_it(tmp_path: Path, store_url: str) -> None:
    newer = tmp_path / "newer.db"
    for url in (str(newer), store_url):
        with LinkStore(url) as store:
            store._raw("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 1),))
    with LinkStore(tmp_path / "a.db") as store:
        store.put(Link("p", "k1", "s1", "t1", "a", "b"))
    with pytest.raises(ConfigError, match="schema version") as source:
        copy_store(store_url, tmp_path / "b.db")
    assert source.value.key == "--from" and str(source.value).startswith("--from:")
    assert not (tmp_path / "b.db").exists()  # refused before the destination is made
    with pytest.raises(ConfigError, match="schema version") as destination:
        copy_store(tmp_path / "a.db", newer)
    assert destination.value.key == "--to" and str(destination.value).startswith("--to:")


def test_a_version_1_store_is_copied_in_the_new_shape_and_left_in_its_own(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    old = tmp_path / "v1.db"
    with sqlite3.connect(old) as db:
        db.executescript(
            VERSION_1_SCHEMA
            + """
            INSERT INTO links VALUES ('p', 'k2', 'autotask:1/2', 'kantata:2/102', 's2', 't2', 'then');
            INSERT INTO links VALUES ('p', 'k1', 'autotask:1/1', 'kantata:2/101', 's1', 't1', 'then');
            CREATE TABLE intents (id INTEGER PRIMARY KEY AUTOINCREMENT, pair_id TEXT NOT NULL,
                sync_key TEXT NOT NULL, action TEXT NOT NULL, state TEXT NOT NULL, detail TEXT,
                created_at TEXT NOT NULL, finished_at TEXT);
            INSERT INTO intents VALUES (7, 'p', 'k3', 'create', 'pending', NULL, 'then', NULL);
            """
        )
    db.close()
    pg = fresh_database(postgres_server)
    copied = copy_store(old, pg)
    assert (copied["links"], copied["intents"]) == (2, 1)
    with LinkStore(pg) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert [(ln.sync_key, ln.desired_fp) for ln in store.links("p")] == [("k2", ""), ("k1", "")]
        assert [(i.id, i.sync_key) for i in store.pending("p")] == [(7, "k3")]
    with sqlite3.connect(f"{old.as_uri()}?mode=ro", uri=True) as db:  # the source is not upgraded in place
        assert db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchall() == [("1",)]
    db.close()
    assert every_row(pg) == every_row(str(old))  # the same rows, once the source is opened (and upgraded)
    assert set(every_row(pg)) == set(TABLES)


def test_a_store_later_in_the_search_path_is_not_the_sources(tmp_path: Path, postgres_server: PostgresServer) -> None:
    """An opener reads and makes its tables in the first schema of the path (``current_schema()``): a store
    in a later one is not what the source would copy, so an empty first schema is refused, not copied empty."""
    later = fresh_database(postgres_server)
    with LinkStore(later) as store:
        store.put(Link("p", "k1", "s1", "t1", "a", "b"))
    first = fresh_database(postgres_server)
    both = first + "%2C" + later.rsplit("%3D", 1)[1]  # search_path=first,later
    with pytest.raises(ConfigError, match="no link store") as info:
        copy_store(both, tmp_path / "b.db")
    assert info.value.key == "--from" and not has_tables(first)
