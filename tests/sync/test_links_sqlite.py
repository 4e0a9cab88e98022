"""What only the SQLite backend has: one file in WAL mode, file errors, and migrations from old files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from billing_milestones.errors import ConfigError
from billing_milestones.sync import Link, LinkStore
from billing_milestones.sync.links import SCHEMA_VERSION


def link(n: int, pair: str = "p") -> Link:
    return Link(pair, f"k{n}", f"autotask:1/{n}", f"kantata:2/{n + 100}", "sfp", "tfp")


def test_a_sqlite_store_is_one_file_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "links.sqlite3"
    with LinkStore(path) as store:
        store.put(link(1))
        assert store.kind == "sqlite"
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_a_store_from_another_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    LinkStore(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 1),))
    db.commit()
    db.close()
    with pytest.raises(ConfigError, match="schema version"):
        LinkStore(path)


@pytest.mark.parametrize("kind", ["missing folder", "a folder", "not a database"])
def test_a_link_store_that_cannot_be_opened_is_a_config_error_naming_links(tmp_path: Path, kind: str) -> None:
    path = {"missing folder": tmp_path / "nowhere" / "links.sqlite3", "a folder": tmp_path}.get(kind)
    if path is None:
        path = tmp_path / "milestones.toml"
        path.write_text('links = "oops"\n' * 200)
    with pytest.raises(ConfigError) as info:
        LinkStore(path)
    assert info.value.key == "links" and str(path) in str(info.value)


def test_a_version_1_store_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema_version', '1');
        CREATE TABLE links (pair_id TEXT NOT NULL, sync_key TEXT NOT NULL, source_key TEXT NOT NULL,
            target_key TEXT NOT NULL, source_fp TEXT NOT NULL, target_fp TEXT NOT NULL, updated_at TEXT NOT NULL,
            PRIMARY KEY (pair_id, sync_key));
        INSERT INTO links VALUES ('p', 'k1', 'autotask:1/1', 'kantata:2/101', 's', 't', 'then');
        """
    )
    db.commit()
    db.close()
    with LinkStore(path) as store:
        (old,) = store.links("p")
        assert (old.sync_key, old.desired_fp) == ("k1", "")
        store.put(link(2))
        assert [ln.sync_key for ln in store.links("p")] == ["k1", "k2"]
    version = sqlite3.connect(path).execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]
    assert version == str(SCHEMA_VERSION) == "5"


@pytest.mark.parametrize("old", ["2", "3"])
def test_a_version_2_or_3_store_gains_the_newer_tables_in_place(tmp_path: Path, old: str) -> None:
    path = tmp_path / "old.sqlite3"
    with LinkStore(path) as store:
        store.put(link(1))
    db = sqlite3.connect(path)
    dropped = "DROP TABLE leases; DROP TABLE pair_versions; DROP TABLE runs;" if old == "2" else "DROP TABLE runs;"
    db.executescript(f"{dropped} UPDATE meta SET value='{old}';")
    db.commit()
    db.close()
    with LinkStore(path) as store:
        assert [ln.sync_key for ln in store.links("p")] == ["k1"]
        with store.lease("p", owner="me") as lease:
            assert lease.held
        store.put(link(2))
        assert store.version("p") == (1 if old == "2" else 2)
        assert store.runs("p") == []
    version = sqlite3.connect(path).execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]
    assert version == "5"
