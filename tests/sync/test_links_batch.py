"""A link write is one batch: its statements commit together or not at all (on PostgreSQL in one round trip),
on every backend; a store says whether its connection may serve another run."""

from __future__ import annotations

from typing import Any

import pytest

from billing_milestones.sync import Link, LinkStore


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
