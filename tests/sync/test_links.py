from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from billing_milestones.errors import ConfigError
from billing_milestones.sync import Link, LinkStore
from billing_milestones.sync.links import SCHEMA_VERSION


def link(n: int, pair: str = "p") -> Link:
    return Link(pair, f"k{n}", f"autotask:1/{n}", f"kantata:2/{n + 100}", "sfp", "tfp")


def test_links_persist_across_reopen_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "links.sqlite3"
    with LinkStore(path) as store:
        store.put(link(1))
        store.put(link(2))
    with LinkStore(path) as store:
        assert [ln.sync_key for ln in store.links("p")] == ["k1", "k2"]
        assert store.get("p", "k2") is not None and store.get("p", "k2").target_id == "102"  # type: ignore[union-attr]
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_put_replaces_and_keeps_one_link_per_source_and_target() -> None:
    store = LinkStore(":memory:")
    store.put(link(1))
    store.put(Link("p", "k1", "autotask:1/1", "kantata:2/555", "a", "b"))
    assert [(ln.target_key, ln.source_fp) for ln in store.links("p")] == [("kantata:2/555", "a")]
    store.put(Link("p", "k9", "autotask:1/1", "kantata:2/777", "a", "b"))  # same source, new key
    assert [ln.sync_key for ln in store.links("p")] == ["k9"]
    assert store.links("other") == []


def test_intents_stay_pending_until_closed() -> None:
    store = LinkStore(":memory:")
    first = store.begin("p", "k1", "create")
    second = store.begin("p", "k2", "create")
    store.put(link(1), intent_id=first)
    assert [i.sync_key for i in store.pending("p")] == ["k2"]
    store.finish(second, error="boom")
    assert store.pending("p") == []
    third = store.begin("p", "k3", "update")
    assert store.resolve_pending("p") == 1
    assert store.pending() == [] and third > second


def test_remove_closes_the_intent_in_the_same_transaction() -> None:
    store = LinkStore(":memory:")
    store.put(link(1))
    intent = store.begin("p", "k1", "delete")
    store.remove("p", "k1", intent_id=intent)
    assert store.get("p", "k1") is None and store.pending() == []


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
    assert version == str(SCHEMA_VERSION) == "3"


def test_a_version_2_store_gains_leases_and_pair_versions_in_place(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite3"
    with LinkStore(path) as store:
        store.put(link(1))
    db = sqlite3.connect(path)
    db.executescript("DROP TABLE leases; DROP TABLE pair_versions; UPDATE meta SET value='2';")
    db.commit()
    db.close()
    with LinkStore(path) as store:
        assert [ln.sync_key for ln in store.links("p")] == ["k1"]
        with store.lease("p", owner="me") as lease:
            assert lease.held
        store.put(link(2))
        assert store.version("p") == 1
    version = sqlite3.connect(path).execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]
    assert version == "3"
