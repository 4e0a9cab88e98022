"""Keys are compared as the exact text they are, on every backend: no case folding, no Unicode normalisation,
no trimming, '' never NULL; links come back in the order they were written, whatever their keys' order as
text; a lease expires at its expiry, not after, by the store's clock (PostgreSQL's, whatever the client's)."""

from __future__ import annotations

import time
import unicodedata

import pytest

from billing_milestones.sync import Link, LinkStore

from .._postgres import PostgresServer, fresh_database

#: Keys that a case-folding, normalising or trimming comparison would take for one another.
_LOOKALIKES = ["k", "K", "\u00e9", "e\u0301", "k ", " k", "\u212a", "ß", "ss", "\uff4b", ""]


def test_keys_that_look_alike_are_distinct_links_and_come_back_as_they_were(store_url: str) -> None:
    assert unicodedata.normalize("NFC", "e\u0301") == "\u00e9" and "\u212a".lower() == "k"
    with LinkStore(store_url) as store:
        for key in _LOOKALIKES:
            store.put(Link("p", key, f"{key}/source", f"{key}/target", key, key))
        assert [(ln.sync_key, ln.source_key, ln.source_fp) for ln in store.links("p")] == [
            (key, f"{key}/source", key) for key in _LOOKALIKES
        ]
        for key in _LOOKALIKES:
            found = store.get("p", key)
            assert found is not None and found.sync_key == key
        assert store.get("P", "k") is None and store.links("P") == []
        store.remove("p", "K")
        assert [ln.sync_key for ln in store.links("p")] == [k for k in _LOOKALIKES if k != "K"]


def test_a_put_replaces_only_the_link_of_the_very_same_key(store_url: str) -> None:
    """A replaced link is found by its exact source or target key: one that differs in case or
    normalisation only is another milestone, and its link stays."""
    with LinkStore(store_url) as store:
        store.put(Link("p", "a", "autotask:1/\u00e9", "kantata:2/X", "s", "t"))
        store.put(Link("p", "b", "autotask:1/e\u0301", "kantata:2/x", "s", "t"))
        assert [ln.sync_key for ln in store.links("p")] == ["a", "b"] and store.version("p") == 2
        store.put(Link("p", "c", "autotask:1/\u00e9", "kantata:2/new", "s", "t"))  # a's source key exactly
        assert [(ln.sync_key, ln.source_key) for ln in store.links("p")] == [
            ("b", "autotask:1/e\u0301"),
            ("c", "autotask:1/\u00e9"),
        ]


def test_names_are_exact_text_too(store_url: str) -> None:
    with LinkStore(store_url) as store:
        for name, value in (("Main", "1"), ("main", "2"), ("main ", "3"), ("\u00e9", "4"), ("e\u0301", "5")):
            store.remember("draft", name, value)
        assert [store.recall("draft", n) for n in ("Main", "main", "main ", "\u00e9", "e\u0301", "MAIN")] == [
            "1",
            "2",
            "3",
            "4",
            "5",
            None,
        ]
        store.forget("draft", "MAIN", "main")
        assert {row["name"] for row in store.dump("names")} == {"Main", "main ", "\u00e9", "e\u0301"}


def test_empty_texts_stay_empty_and_absent_ones_stay_absent(store_url: str) -> None:
    with LinkStore(store_url) as store:
        store.put(Link("p", "k", "s", "t", "", "", desired_fp=""))
        (link,) = store.links("p")
        assert (link.source_fp, link.target_fp, link.desired_fp) == ("", "", "")
        with_none, with_empty = store.begin("p", "a", "create"), store.begin("p", "b", "create", detail="")
        assert [(i.id, i.detail, i.finished_at) for i in store.pending("p")] == [
            (with_none, None, None),
            (with_empty, "", None),
        ]
        store.remember("draft", "", "")
        assert store.recall("draft", "") == "" and store.recall("draft", "x") is None


def test_links_come_back_in_the_order_written_not_in_their_keys_order(store_url: str) -> None:
    keys = ["b", "a", "B", "\u00e9", "_", "10", "9", "A"]
    with LinkStore(store_url) as store:
        for key in keys:
            store.put(Link("p", key, f"s{key}", f"t{key}", "s", "t"))
        store.put(Link("p", "a", "sa", "ta", "s2", "t2"))  # replaced: last now
        order = [k for k in keys if k != "a"] + ["a"]
        assert [ln.sync_key for ln in store.links("p")] == order
        assert [ln.sync_key for page in store.link_pages("p", 3) for ln in page] == order
        assert [ln.sync_key for ln in store] == order
        assert [row["sync_key"] for row in store.dump("links")] == order


def test_a_lease_of_no_time_has_expired_when_it_is_taken(store_url: str) -> None:
    with LinkStore(store_url) as store:
        assert store.try_lease("p", "a", 0.0).owner == "a"
        assert store.lease_holder("p") is None
        assert not store.renew_lease("p", "a", 60.0)  # expired: not renewed, even by its holder
        assert store.try_lease("p", "b", 60.0).owner == "b"
        assert store.try_lease("p", "a", 60.0).owner == "b"


def test_a_lease_is_expired_at_its_expiry_not_after(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The store's clock read as exactly the lease's expiry: no holder, as every backend reads it."""
    with LinkStore(store_url) as store:
        holder = store.try_lease("p", "a", 60.0)
        assert holder.expires_at > store.backend.clock() + 50
        monkeypatch.setattr(store.backend, "clock", lambda: holder.expires_at - 0.001)
        assert store.lease_holder("p") == holder
        monkeypatch.setattr(store.backend, "clock", lambda: holder.expires_at)
        assert store.lease_holder("p") is None
        if store.kind == "sqlite":  # PostgreSQL takes and renews by the server's clock, in the statement
            assert not store.renew_lease("p", "a", 60.0)
            assert store.try_lease("p", "b", 60.0).owner == "b"


def test_a_client_clock_an_hour_off_neither_takes_nor_loses_a_postgresql_lease(
    postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers on several machines share one store: its leases are measured by the server's clock alone."""
    url = fresh_database(postgres_server)
    with LinkStore(url) as first, LinkStore(url) as second:
        holder = first.try_lease("p", "a", 60.0)
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + 3600)
        assert second.try_lease("p", "b", 60.0).owner == "a"
        assert second.lease_holder("p") == holder
        assert first.renew_lease("p", "a", 60.0)
        monkeypatch.setattr(time, "time", lambda: real() - 3600)
        assert second.try_lease("p", "b", 60.0).owner == "a" and first.renew_lease("p", "a", 60.0)
