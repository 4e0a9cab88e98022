"""A store of the first schema version, upgraded in place by opening it, behaves as a new one on every backend:
its links kept in their order, no desired fingerprint accepted, and every later write (batches, intents,
leases, names, runs) working at once."""

from __future__ import annotations

import pytest

from billing_milestones.sync import Link, LinkStore
from billing_milestones.sync.store import SCHEMA_VERSION, RunRecord

#: What the first version had not: every table but meta and links, and the links' desired fingerprint.
_NEWER_TABLES = ("intents", "leases", "pair_versions", "names", "runs")


def _as_version_1(url: str) -> None:
    with LinkStore(url) as store:
        for n in (2, 1, 3):
            store.put(Link("p", f"k{n}", f"s{n}", f"t{n}", f"sfp{n}", f"tfp{n}", desired_fp="accepted"))
        for table in _NEWER_TABLES:
            store._raw(f"DROP TABLE {table}")
        store._raw("ALTER TABLE links DROP COLUMN desired_fp")
        store._raw("UPDATE meta SET value = '1' WHERE key = 'schema_version'")


def test_a_version_1_store_opened_is_upgraded_in_place_and_writes_as_a_new_one(store_url: str) -> None:
    _as_version_1(store_url)
    with LinkStore(store_url) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert [(ln.sync_key, ln.source_fp, ln.desired_fp) for ln in store.links("p")] == [
            ("k2", "sfp2", ""),
            ("k1", "sfp1", ""),
            ("k3", "sfp3", ""),
        ]
        assert store.version("p") == 0 and store.pending() == [] and store.runs() == []
        assert store.try_lease("p", "me", 60).owner == "me"
        ids = store.begin_many("p", [("k1", "update"), ("k4", "create")])
        store.put_many(
            [
                (Link("p", "k1", "s1", "t1", "new", "new", desired_fp="d"), ids[0]),
                (Link("p", "k4", "s4", "t4", "s", "t"), ids[1]),
            ]
        )
        assert [(ln.sync_key, ln.desired_fp) for ln in store.links("p")] == [
            ("k2", ""),
            ("k3", ""),
            ("k1", "d"),
            ("k4", ""),
        ]
        assert [ln.sync_key for page in store.link_pages("p", 2) for ln in page] == ["k2", "k3", "k1", "k4"]
        assert store.version("p") == 2 and store.pending() == []
        store.remember("draft", "main", "est-1")
        run = store.record_run(RunRecord("p", "w:1:a", "2026-12-01T10:00:00Z", "2026-12-01T10:00:01Z", created=1))
        assert store.recall("draft", "main") == "est-1" and [r.id for r in store.runs("p")] == [run]
    with LinkStore(store_url) as store:  # opened again: nothing migrated twice
        assert store.schema_version() == SCHEMA_VERSION and len(store.links("p")) == 4


@pytest.mark.parametrize("version", [2, 3, 4])
def test_a_store_of_a_later_old_version_is_upgraded_without_losing_its_rows(store_url: str, version: int) -> None:
    """Versions 2 to 4 only lack tables or carry indexes since replaced: opening adds or drops them."""
    with LinkStore(store_url) as store:
        store.put(Link("p", "k1", "s1", "t1", "a", "b", desired_fp="x"))
        intent = store.begin("p", "k2", "create")
        if version < 4:
            store._raw("DROP TABLE runs")
        if version < 3:
            store._raw("DROP TABLE leases")
            store._raw("DROP TABLE pair_versions")
        store._raw(f"UPDATE meta SET value = '{version}' WHERE key = 'schema_version'")
    with LinkStore(store_url) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert [(ln.sync_key, ln.desired_fp) for ln in store.links("p")] == [("k1", "x")]
        assert [i.id for i in store.pending("p")] == [intent]
        store.put(Link("p", "k2", "s2", "t2", "a", "b"), intent_id=intent)
        assert store.pending() == [] and store.try_lease("p", "me", 60).owner == "me"
        assert store.version("p") == (2 if version >= 3 else 1)
