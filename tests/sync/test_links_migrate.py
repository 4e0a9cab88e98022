"""``links migrate`` copies every row, both ways, and refuses to merge into a store that holds rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing_milestones.errors import ConfigError
from billing_milestones.sync import Link, LinkStore
from billing_milestones.sync.store import RunRecord
from billing_milestones.sync.store._model import TABLES
from billing_milestones.sync.store.migrate import copy_store

from .._postgres import PostgresServer, fresh_database


def fill(store: LinkStore) -> None:
    for n in (3, 1, 2):  # written out of key order: the copy keeps the written order
        store.put(Link("p", f"k{n}", f"s{n}", f"t{n}", f"sfp{n}", f"tfp{n}", desired_fp=f"d{n}"))
    store.put(Link("q", "k1", "s1", "t1", "a", "b"))
    done = store.begin("p", "k9", "create", detail="sent")
    store.finish(done, error="refused")
    store.begin("p", "k8", "update")  # left pending: a crash's trace
    store.remember("crmcom.draft", "main", "est-42")
    store.try_lease("q", "host:1:run", ttl=-1.0)  # lapsed: a live one is refused (test_links_migrate_atomic)
    store.record_run(RunRecord("p", "w:1:a", "2026-12-01T10:00:00Z", "2026-12-01T10:00:02Z", created=3, error=None))
    store.record_run(RunRecord("q", "w:2:b", "2026-12-01T11:00:00Z", "2026-12-01T11:00:02Z", ok=False, error="x"))


def every_row(url: str) -> dict[str, list[dict[str, object]]]:
    with LinkStore(url) as store:
        return {table: store.dump(table) for table in TABLES}


def test_sqlite_to_postgresql_and_back_keeps_every_row(tmp_path: Path, postgres_server: PostgresServer) -> None:
    first, pg, back = f"sqlite:///{tmp_path / 'a.db'}", fresh_database(postgres_server), str(tmp_path / "b.db")
    with LinkStore(first) as store:
        fill(store)
    original = every_row(first)
    assert all(original[t] for t in TABLES)
    assert copy_store(first, pg) == {t: len(rows) for t, rows in original.items()}
    assert every_row(pg) == original
    copy_store(pg, back)
    assert every_row(back) == original
    with LinkStore(pg) as store, LinkStore(back) as again:
        assert (
            [ln.sync_key for ln in store.links("p")] == ["k3", "k1", "k2"] == [ln.sync_key for ln in again.links("p")]
        )
        assert store.version("p") == 3 and store.pending("p")[0].sync_key == "k8"
        # New ids continue after the copied ones on either backend.
        assert store.begin("p", "k7", "create") > max(int(str(r["id"])) for r in original["intents"])
        assert again.record_run(RunRecord("p", "w", "s", "f")) == 3


def test_a_destination_with_rows_is_refused(tmp_path: Path) -> None:
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    with LinkStore(a) as store:
        fill(store)
    with LinkStore(b) as store:
        store.remember("x", "y", "z")
    with pytest.raises(ConfigError, match="already holds rows") as info:
        copy_store(a, b)
    assert info.value.key == "--to"
    with LinkStore(b) as store:
        assert store.links("p") == []


def test_the_source_must_exist_and_differ_from_the_destination(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as missing:
        copy_store(tmp_path / "none.db", tmp_path / "b.db")
    assert missing.value.key == "--from" and not (tmp_path / "b.db").exists()
    with pytest.raises(ConfigError) as same:
        copy_store(tmp_path / "a.db", f"sqlite:///{tmp_path / 'a.db'}")
    assert same.value.key == "--to"


def test_a_nul_character_postgresql_cannot_store_is_named_before_anything_is_written(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    """SQLite's text may hold NUL, PostgreSQL's may not: the row and column are named, the destination stays
    empty, and with the row fixed the same command copies the store."""
    source, pg = tmp_path / "a.db", fresh_database(postgres_server)
    with LinkStore(source) as store:
        fill(store)
        store.record_run(RunRecord("p", "w:3:c", "2026-12-01T12:00:00Z", "2026-12-01T12:00:01Z", ok=False, error="x"))
        # As a store written before NULs were replaced holds it (a run's error is now written with U+FFFD).
        store._raw("UPDATE runs SET error = ? WHERE id = 3", ("a\x00b",))
    with pytest.raises(ConfigError, match=r"runs row \(id 3, pair_id 'p'\) holds a NUL character in error") as info:
        copy_store(source, pg)
    assert info.value.key == "--from"
    assert not any(every_row(pg)[table] for table in TABLES if table != "meta")
    with LinkStore(source) as store:
        store._raw("UPDATE runs SET error = 'ab' WHERE id = 3")
    assert copy_store(source, pg)["runs"] == 3
