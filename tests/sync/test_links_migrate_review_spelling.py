"""``links migrate`` given a destination spelt so that nothing would be kept, or the source by another name."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from billing_milestones.errors import ConfigError
from billing_milestones.sync import Link, LinkStore
from billing_milestones.sync.store.migrate import copy_store

from .._postgres import PostgresServer, fresh_database
from ._old_stores import VERSION_1_SCHEMA


@pytest.mark.parametrize("destination", [":memory:", "sqlite:///:memory:"])
def test_an_in_memory_destination_is_refused_not_reported_copied(tmp_path: Path, destination: str) -> None:
    """It was "Copied 1 links" and exit 0, of a copy gone when the command ended."""
    source = tmp_path / "a.db"
    with LinkStore(source) as store:
        store.put(Link("p", "k", "s", "t", "a", "b"))
    with pytest.raises(ConfigError, match=":memory: keeps no link") as info:
        copy_store(source, destination)
    assert info.value.key == "--to"


def _old_store(path: Path) -> bytes:
    db = sqlite3.connect(path)
    db.executescript(VERSION_1_SCHEMA + "INSERT INTO links VALUES ('p', 'k', 's', 't', 'a', 'b', '2026-01-01');")
    db.commit()
    db.close()
    return path.read_bytes()


def test_the_source_by_another_spelling_is_refused_before_it_is_opened_as_the_destination(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--from old.db --to ./old.db`` opened the source read-write as the destination, upgrading its older
    schema in place (an SDK of that version then refuses it) before refusing it as holding rows."""
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "old.db"
    before = _old_store(source)
    (tmp_path / "alias.db").symlink_to(source)
    os.link(source, tmp_path / "hard.db")
    for spelling in ("./old.db", f"sqlite:///{source}", "sqlite:///old.db", "alias.db", "hard.db"):
        with pytest.raises(ConfigError, match="the destination is the source") as info:
            copy_store("old.db", spelling)
        assert info.value.key == "--to"
    assert source.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alias.db", "hard.db", "old.db"]  # no -wal, -shm


def test_a_new_destination_file_is_still_made(tmp_path: Path) -> None:
    source = tmp_path / "a.db"
    with LinkStore(source) as store:
        store.put(Link("p", "k", "s", "t", "a", "b"))
    assert copy_store(source, tmp_path / "new.db")["links"] == 1


def test_a_search_path_naming_no_schema_is_a_config_error(tmp_path: Path, postgres_server: PostgresServer) -> None:
    """``options=-csearch_path%3Dclient_a`` (docs/scale.md) before ``CREATE SCHEMA client_a``, or a typo in it:
    the server's "no schema has been selected to create in" was a traceback from migrate, runs and sync."""
    source = tmp_path / "a.db"
    with LinkStore(source) as store:
        store.put(Link("p", "k", "s", "t", "a", "b"))
    missing = postgres_server.url() + "?options=-csearch_path%3Dno_such_schema"
    with pytest.raises(ConfigError, match="no schema its search_path names exists") as info:
        copy_store(source, missing)
    assert info.value.key == "--to"
    with pytest.raises(ConfigError, match="no schema its search_path names exists") as opened:
        LinkStore(missing)
    assert opened.value.key == "links"
    with LinkStore(fresh_database(postgres_server)) as store:  # a schema that exists is used as before
        assert store.kind == "postgresql"


def test_a_schema_the_user_may_not_create_in_is_a_config_error(postgres_server: PostgresServer) -> None:
    """PostgreSQL 15 on lets only its owner create in ``public``: "permission denied for schema" was a
    traceback."""
    import psycopg

    url = fresh_database(postgres_server)
    schema = url.rsplit("%3D", 1)[1]
    role = f"r_{schema}"
    with psycopg.connect(postgres_server.url(), autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
    as_role = url.replace("postgres@", f"{role}@", 1)
    with pytest.raises(ConfigError, match=f"cannot make its tables \\(permission denied for schema {schema}\\)"):
        LinkStore(as_role)


def test_a_destination_that_cannot_be_opened_names_the_option_to_fix_not_the_config(tmp_path: Path) -> None:
    """migrate reads no config: "set links in the config (or BILLING_MILESTONES_LINKS)" sent the user there."""
    source = tmp_path / "a.db"
    with LinkStore(source) as store:
        store.put(Link("p", "k", "s", "t", "a", "b"))
    with pytest.raises(ConfigError, match="give --to a file in a folder that exists") as info:
        copy_store(source, tmp_path / "no-such-folder" / "b.db")
    assert info.value.key == "--to" and "BILLING_MILESTONES_LINKS" not in str(info.value)


def test_a_home_folder_path_is_the_home_folder_for_migrate_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As in ``links`` and the variable: ``sqlite:///~/a.db`` (no shell expands it) was "no link store at ~/a.db"."""
    monkeypatch.setenv("HOME", str(tmp_path))
    with LinkStore(tmp_path / "a.db") as store:
        store.put(Link("p", "k", "s", "t", "a", "b"))
    assert copy_store("sqlite:///~/a.db", "~/b.db")["links"] == 1
    with LinkStore(tmp_path / "b.db") as store:
        assert [link.sync_key for link in store.links("p")] == ["k"]
    with pytest.raises(ConfigError, match="the destination is the source"):
        copy_store("~/a.db", f"sqlite:///{tmp_path / 'a.db'}")
