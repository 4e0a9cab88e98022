"""A link write is one batch: its statements commit together or not at all (on PostgreSQL in one round trip),
on every backend; a store says whether its connection may serve another run."""

from __future__ import annotations

import time
from typing import Any

import pytest

from billing_milestones.sync import Link, LinkStore

from .._postgres import PostgresServer, fresh_database
from ._round_trips import CountingBackend


def _link(n: int) -> Link:
    return Link("p", f"k{n}", f"autotask:1/{n}", f"kantata:2/{n + 100}", "sfp", "tfp")


def test_put_closes_its_intent_and_bumps_the_version_in_one_batch(store_url: str) -> None:
    with LinkStore(store_url) as store:
        intent = store.begin("p", "k1", "create")
        store.put(_link(1), intent_id=intent)
        assert store.pending("p") == [] and store.version("p") == 1
        store.remove("p", "k1", intent_id=store.begin("p", "k1", "delete"))
        assert store.links("p") == [] and store.pending("p") == [] and store.version("p") == 2


def test_a_batch_that_fails_midway_leaves_nothing_written(store_url: str) -> None:
    with LinkStore(store_url) as store:
        store.put(_link(1))
        bad: list[tuple[str, Any]] = [
            ("DELETE FROM links WHERE pair_id=?", ("p",)),
            ("INSERT INTO pair_versions (pair_id, version) VALUES (?, ?)", ("p", 7)),  # p is there: refused
        ]
        with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
            store.backend.batch(bad)
        assert [ln.sync_key for ln in store.links("p")] == ["k1"] and store.version("p") == 1
        assert store.reusable() is (store.kind == "postgresql")  # the failure left no transaction open
        store.put(_link(2))  # and the connection still writes
        assert [ln.sync_key for ln in store.links("p")] == ["k1", "k2"]


def test_a_batch_inside_a_transaction_joins_it(store_url: str) -> None:
    with LinkStore(store_url) as store:
        with pytest.raises(RuntimeError), store.backend.transaction():
            store.put(_link(1))
            raise RuntimeError("the outer transaction fails after the put")
        assert store.links("p") == [] and store.version("p") == 0


def test_values_are_bound_not_spliced_into_the_batch(store_url: str) -> None:
    with LinkStore(store_url) as store:
        odd = Link("p", "k'; DROP TABLE links; --", "autotask:1/%s", "kantata:2/?", "50% off", "a\\b")
        store.put(odd)
        (back,) = store.links("p")
        assert (back.sync_key, back.source_key, back.target_key, back.source_fp, back.target_fp) == (
            odd.sync_key,
            odd.source_key,
            odd.target_key,
            odd.source_fp,
            odd.target_fp,
        )


def test_a_postgresql_store_with_a_transaction_open_or_closed_is_not_reusable(store_url: str) -> None:
    store = LinkStore(store_url)
    if store.kind != "postgresql":
        assert not store.reusable()  # a SQLite file is opened anew for each run
        store.close()
        return
    assert store.reusable()
    with store.backend.transaction():
        assert not store.reusable()
    assert store.reusable()
    store.close()
    assert not store.reusable()


def test_begin_many_records_every_intent_before_returning_their_ids_in_order(store_url: str) -> None:
    with LinkStore(store_url) as store:
        writes = [(f"k{n}", "create") for n in (3, 1, 2)] + [(f"m{n}", "update") for n in range(250)]
        ids = store.begin_many("p", writes)
        pending = {i.id: (i.sync_key, i.action) for i in store.pending("p")}
        assert len(set(ids)) == len(writes) and [pending[i] for i in ids] == writes
        assert store.begin_many("p", []) == []
        twice = store.begin_many("q", [("k", "create"), ("k", "delete")])  # a repeated key: one by one
        assert [(i.sync_key, i.action) for i in store.pending("q")] == [("k", "create"), ("k", "delete")]
        assert sorted(twice) == [i.id for i in store.pending("q")]


def test_put_many_links_a_batch_and_closes_its_intents_together(store_url: str) -> None:
    with LinkStore(store_url) as store:
        ids = store.begin_many("p", [(f"k{n}", "create") for n in range(3)])
        store.put_many([(_link(n), intent) for n, intent in enumerate(ids)])
        assert [ln.sync_key for ln in store.links("p")] == ["k0", "k1", "k2"]
        assert store.pending("p") == [] and store.version("p") == 3
        store.put_many([])
        clash = Link("p", "k9", "autotask:1/9", "kantata:2/109", "s", "t")
        later = store.begin_many("p", [("k9", "create"), ("k8", "create")])
        bad = Link("p", "k8", "autotask:1/8", "kantata:2/108", "s", "t")
        with pytest.raises(RuntimeError), store.backend.transaction():
            store.put_many([(clash, later[0]), (bad, later[1])])
            raise RuntimeError("the batch is not kept when what holds it fails")
        assert [ln.sync_key for ln in store.links("p")] == ["k0", "k1", "k2"]
        assert {i.sync_key for i in store.pending("p")} == {"k9", "k8"}  # left open, as a crash leaves them


def test_a_batch_of_creates_costs_a_few_store_calls_not_several_per_milestone(store_url: str) -> None:
    import datetime as dt

    from billing_milestones import Milestone, Money, Platform
    from billing_milestones.sync import SyncPair, apply_plan, load_sides, plan_sync

    from .fakes import FakeView

    source, target = FakeView(Platform.AUTOTASK), FakeView(Platform.KANTATA)
    for i in range(50):
        source.add("77", Milestone(title=f"P{i}", amount=Money(f"{i}.25", "USD"), due=dt.date(2027, 1, 1)))
    pair = SyncPair(Platform.AUTOTASK, "77", Platform.KANTATA, "900")
    views = {Platform.AUTOTASK: source, Platform.KANTATA: target}
    with LinkStore(store_url) as store:
        plan = plan_sync(pair, *load_sides(pair, views), store)
        counting = CountingBackend(store.backend)
        store.backend = counting
        result = apply_plan(plan, views, store)
        store.backend = counting.inner
        assert result.ok and len(store.links(pair.id)) == 50 and store.pending(pair.id) == []
    assert counting.calls <= 20  # lease, intents, links, run record: was ~150 (a begin and a put each)


def _state(store: LinkStore) -> tuple[Any, ...]:
    links = [(ln.sync_key, ln.source_key, ln.target_key, ln.source_fp, ln.target_fp, ln.desired_fp) for ln in store]
    intents = sorted((i.sync_key, i.action) for i in store.pending())
    return links, intents, store.version("p"), store.version("q")


@pytest.mark.parametrize("clashing", [False, True])
def test_put_many_leaves_what_putting_each_link_in_turn_leaves(store_url: str, clashing: bool) -> None:
    """Links replacing older ones by sync, source or target key, in two pairs, some with intents: the batch
    (set-based on PostgreSQL when no two share a key, one by one otherwise) ends where puts in turn end."""
    batch = [
        (Link("p", "k1", "autotask:1/1", "kantata:2/new", "s1", "t1", desired_fp="d1"), True),  # same sync key
        (Link("p", "k7", "autotask:1/2", "kantata:2/7", "s2", "t2"), False),  # takes k2's source key
        (Link("p", "k8", "autotask:1/8", "kantata:2/103", "s3", "t3"), True),  # takes k3's target key
        (Link("q", "k1", "autotask:9/1", "kantata:9/1", "s4", "t4"), True),  # another pair, same keys as p's
        (Link("p", "k9", "autotask:1/9", "kantata:2/109", "o'dd %s ?", "t5"), False),
    ]
    if clashing:
        batch.append((Link("p", "k10", "autotask:1/9", "kantata:2/110", "s6", "t6"), True))  # k9's source key
    states = []
    for one_by_one in (True, False):
        with LinkStore(store_url) as store:
            for link in (_link(1), _link(2), _link(3), _link(4)):
                store.put(link)
            ids = [store.begin(link.pair_id, link.sync_key, "create") if has else None for link, has in batch]
            store.begin("p", "k4", "update")  # an intent the batch does not close
            items = [(link, intent) for (link, _), intent in zip(batch, ids, strict=True)]
            if one_by_one:
                for link, intent in items:
                    store.put(link, intent_id=intent)
            else:
                store.put_many(items)
            states.append(_state(store))
            for table in ("links", "intents", "pair_versions"):
                store._raw(f"DELETE FROM {table}")
    assert states[0] == states[1]
    assert states[1][1] == [("k4", "update")] and states[1][2] == 4 + len(batch) - 1


def test_postgresql_takes_and_renews_a_lease_and_begins_a_batch_in_one_statement_each(store_url: str) -> None:
    with LinkStore(store_url) as store:
        counting = CountingBackend(store.backend)
        store.backend = counting
        holder = store.try_lease("p", "a", ttl=60)
        taken = counting.calls
        assert store.renew_lease("p", "a", ttl=60)
        renewed = counting.calls - taken
        assert store.try_lease("p", "b", ttl=60).owner == "a"  # held: left as it was
        assert holder.owner == "a" and holder.expires_at > time.time() + 50
        before = counting.calls
        ids = store.begin_many("p", [(f"k{n}", "create") for n in range(250)])
        begun = counting.calls - before
        store.backend = counting.inner
        assert len(set(ids)) == 250
        if store.kind == "postgresql":  # SQLite: a transaction of several statements, in process
            assert (taken, renewed, begun) == (1, 1, 1)


def test_a_batch_carries_any_text_as_it_is(store_url: str) -> None:
    odd = ["k'\"; DROP TABLE links; --", "autotask:1/%s ?", "kantata:2/\\n\u00e9\u2603", "50% \t{}[]"]
    with LinkStore(store_url) as store:
        ids = store.begin_many("p", [(key, "create") for key in odd])
        assert sorted(i.sync_key for i in store.pending("p")) == sorted(odd)
        links = [Link("p", key, f"s{key}", f"t{key}", key, key[::-1], desired_fp=key * 2) for key in odd]
        store.put_many(list(zip(links, ids, strict=True)))
        back = [(ln.sync_key, ln.source_key, ln.target_key, ln.source_fp, ln.target_fp, ln.desired_fp) for ln in links]
        assert [
            (ln.sync_key, ln.source_key, ln.target_key, ln.source_fp, ln.target_fp, ln.desired_fp)
            for ln in store.links("p")
        ] == back
        assert store.pending("p") == []


def test_a_batch_finds_what_it_replaces_by_index_in_a_large_store(postgres_server: PostgresServer) -> None:
    """The batch's statements look rows up by the pair's and the intents' indexes: a store of every pair's
    links is never read whole for one pair's batch (a join of the batch to ``links`` was, 14 ms at 10,000).
    Read from what the batch's own transaction scanned: the statements run inside the store's function."""
    with LinkStore(fresh_database(postgres_server)) as store:
        for p in range(100):
            ids = store.begin_many(f"p{p}", [(f"k{n}", "create") for n in range(50)])
            links = [Link(f"p{p}", f"k{n}", f"autotask:{p}/{n}", f"kantata:{p}/{n}", "s", "t") for n in range(50)]
            store.put_many(list(zip(links, ids, strict=True)))
        store._raw("ANALYZE")
        ids = store.begin_many("p7", [(f"k{n}", "update") for n in range(50)])
        batch = [(Link("p7", f"k{n}", f"autotask:7/{n}", f"kantata:7/x{n}", "s2", "t2"), ids[n]) for n in range(50)]
        scans = "SELECT relname, seq_scan FROM pg_stat_xact_user_tables WHERE relname IN ('links', 'intents')"
        with store.backend.transaction():  # the counts not yet reported (earlier transactions' too), then its own
            before = {row["relname"]: row["seq_scan"] for row in store._raw(scans)}
            store.put_many(batch)
            after = {row["relname"]: row["seq_scan"] for row in store._raw(scans)}
        assert {name: after[name] - before.get(name, 0) for name in after} == {"links": 0, "intents": 0}, after
        assert [ln.target_key for ln in store.links("p7")] == [f"kantata:7/x{n}" for n in range(50)]
        assert store.pending("p7") == []


def test_a_store_makes_its_own_batch_function_even_when_a_later_schema_of_its_path_has_one(
    postgres_server: PostgresServer,
) -> None:
    """The function is looked for in the store's own schema (where its tables are), not along the whole
    search_path: one of that name in a later schema (``public``, which any role may write on older servers)
    would otherwise run every batch of this store with this store's rights."""
    import psycopg

    mine, other = (fresh_database(postgres_server).rsplit("%3D", 1)[1] for _ in range(2))
    with psycopg.connect(postgres_server.url(), autocommit=True) as conn:
        conn.execute(
            f'CREATE FUNCTION "{other}".bm_put_links_v1(batch jsonb, stamp text, closed jsonb) RETURNS void '
            "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'planted'; END $$"
        )
    with LinkStore(postgres_server.url() + f"?options=-csearch_path%3D{mine}%2C{other}") as store:
        store.put_many([(_link(n), None) for n in range(2)])
        assert [ln.sync_key for ln in store.links("p")] == ["k0", "k1"] and store.version("p") == 2
