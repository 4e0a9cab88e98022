"""The link store's semantics, run against every backend (SQLite and a real PostgreSQL server)."""

from __future__ import annotations

from billing_milestones.sync import Link, LinkStore
from billing_milestones.sync.links import SCHEMA_VERSION


def link(n: int, pair: str = "p") -> Link:
    return Link(pair, f"k{n}", f"autotask:1/{n}", f"kantata:2/{n + 100}", "sfp", "tfp")


def test_links_persist_across_reopen(store_url: str) -> None:
    with LinkStore(store_url) as store:
        store.put(link(1))
        store.put(link(2))
    with LinkStore(store_url) as store:
        assert [ln.sync_key for ln in store.links("p")] == ["k1", "k2"]
        assert store.get("p", "k2") is not None and store.get("p", "k2").target_id == "102"  # type: ignore[union-attr]
        assert [ln.sync_key for ln in store] == ["k1", "k2"]
        assert store.schema_version() == SCHEMA_VERSION


def test_put_replaces_and_keeps_one_link_per_source_and_target(store_url: str) -> None:
    store = LinkStore(store_url)
    store.put(link(1))
    store.put(Link("p", "k1", "autotask:1/1", "kantata:2/555", "a", "b"))
    assert [(ln.target_key, ln.source_fp) for ln in store.links("p")] == [("kantata:2/555", "a")]
    store.put(Link("p", "k9", "autotask:1/1", "kantata:2/777", "a", "b"))  # same source, new key
    assert [ln.sync_key for ln in store.links("p")] == ["k9"]
    store.put(Link("p", "k8", "autotask:1/8", "kantata:2/777", "a", "b"))  # same target, new key
    assert [ln.sync_key for ln in store.links("p")] == ["k8"]
    assert store.links("other") == []
    store.close()


def test_a_replaced_link_moves_to_the_end_of_the_order(store_url: str) -> None:
    with LinkStore(store_url) as store:
        store.put(link(1))
        store.put(link(2))
        store.put(Link("p", "k1", "autotask:1/1", "kantata:2/101", "new", "tfp"))
        assert [ln.sync_key for ln in store.links("p")] == ["k2", "k1"]


def test_intents_stay_pending_until_closed(store_url: str) -> None:
    store = LinkStore(store_url)
    first = store.begin("p", "k1", "create")
    second = store.begin("p", "k2", "create", detail="two")
    store.put(link(1), intent_id=first)
    (open_one,) = store.pending("p")
    assert (open_one.sync_key, open_one.action, open_one.state, open_one.detail) == ("k2", "create", "pending", "two")
    store.finish(second, error="boom")
    assert store.pending("p") == []
    third = store.begin("p", "k3", "update")
    store.begin("q", "k4", "update")
    assert [i.pair_id for i in store.pending()] == ["p", "q"]
    assert store.resolve_pending("p") == 1
    assert [i.pair_id for i in store.pending()] == ["q"] and third > second
    recovered = next(r for r in store.dump("intents") if r["id"] == third)
    assert recovered["state"] == "failed" and str(recovered["detail"]).endswith("(recovered)")
    store.close()


def test_remove_closes_the_intent_in_the_same_transaction(store_url: str) -> None:
    store = LinkStore(store_url)
    store.put(link(1))
    intent = store.begin("p", "k1", "delete")
    store.remove("p", "k1", intent_id=intent)
    assert store.get("p", "k1") is None and store.pending() == []
    store.close()


def test_a_failed_put_rolls_back_and_leaves_the_intent_open(store_url: str) -> None:
    import pytest

    store = LinkStore(store_url)
    intent = store.begin("p", "k1", "create")
    with pytest.raises(Exception):  # noqa: B017 - each driver raises its own integrity error
        store.put(Link("p", "k1", None, "t", "a", "b"), intent_id=intent)  # type: ignore[arg-type]
    assert store.links("p") == [] and store.version("p") == 0
    assert [i.id for i in store.pending("p")] == [intent]
    store.close()


def test_names_are_remembered_and_replaced(store_url: str) -> None:
    with LinkStore(store_url) as store:
        assert store.recall("draft", "main") is None
        store.remember("draft", "main", "est-1")
        store.remember("draft", "main", "est-2")
        store.remember("draft", "other", "est-3")
        assert store.recall("draft", "main") == "est-2" and store.recall("draft", "other") == "est-3"


def test_the_repr_names_the_store_without_a_password() -> None:
    from billing_milestones.sync.store import parse_target

    target = parse_target("postgresql://sync:hunter2@db.internal:5432/links?password=hunter2")
    assert "hunter2" not in target.display and "db.internal" in target.display


def test_runs_are_kept_newest_first_per_pair(store_url: str) -> None:
    from billing_milestones.sync.store import RunRecord

    with LinkStore(store_url) as store:
        first = store.record_run(RunRecord("p", "host:1:a", "2026-12-01T10:00:00Z", "2026-12-01T10:00:05Z", created=3))
        second = store.record_run(
            RunRecord("p", "host:2:b", "2026-12-01T11:00:00Z", "2026-12-01T11:00:01Z", ok=False, error="boom")
        )
        store.record_run(RunRecord("q", "host:3:c", "2026-12-01T12:00:00Z", "2026-12-01T12:00:01Z", conflicts=2))
        latest, older = store.runs("p")
        assert (latest.id, older.id) == (second, first) and second > first
        assert (latest.ok, latest.error, older.ok, older.created) == (False, "boom", True, 3)
        assert older == RunRecord("p", "host:1:a", "2026-12-01T10:00:00Z", "2026-12-01T10:00:05Z", created=3, id=first)
        assert [r.pair_id for r in store.runs()] == ["q", "p", "p"] and len(store.runs(limit=2)) == 2
        assert store.runs()[0].to_json()["conflicts"] == 2
