"""What one backend stores the other must store too, or both refuse it the same way before anything is written:
NUL, surrogates, ``bytes`` and over-long keys (SQLite kept them all; PostgreSQL refused each its own way, some
only after the milestone was created), and the messages a failed write records (never refused)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from billing_milestones.errors import ValidationError
from billing_milestones.sync import Link, LinkStore
from billing_milestones.sync.store import RunRecord
from billing_milestones.sync.store._leased import begin_leased
from billing_milestones.sync.store._values import MAX_KEY_BYTES


def _link(**fields: object) -> Link:
    values: dict[str, Any] = {
        "pair_id": "p",
        "sync_key": "k1",
        "source_key": "autotask:1/1",
        "target_key": "kantata:2/101",
        "source_fp": "sfp",
        "target_fp": "tfp",
    }
    return Link(**{**values, **fields})


def _nothing_written(store: LinkStore) -> None:
    assert list(store) == [] and store.pending() == [] and store.version("p") == 0


#: Values no backend may be given: each is refused naming the field.
_BAD: dict[str, object] = {
    "NUL": "a\x00b",
    "surrogate": "a\ud800b",
    "bytes": b"k1",
    "None": None,
    "too long": "k" * (MAX_KEY_BYTES + 1),
    "too long as UTF-8": "\u00e9" * (MAX_KEY_BYTES // 2 + 1),
}


@pytest.mark.parametrize("bad", _BAD.values(), ids=_BAD.keys())
@pytest.mark.parametrize("field", ["pair_id", "sync_key", "source_key", "target_key"])
def test_a_key_no_backend_can_keep_is_refused_by_name_and_nothing_is_written(
    store_url: str, field: str, bad: object
) -> None:
    with LinkStore(store_url) as store:
        intent = store.begin("p", "k0", "create")
        writes: list[Callable[[], None]] = [
            lambda: store.put(_link(**{field: bad}), intent_id=intent),
            lambda: store.put_many(
                [(_link(sync_key="k9", source_key="s9", target_key="t9"), None), (_link(**{field: bad}), intent)]
            ),
        ]
        for write in writes:
            with pytest.raises(ValidationError) as refused:
                write()
            assert refused.value.field == field
        assert list(store) == [] and store.version("p") == 0
        assert [i.id for i in store.pending()] == [intent]


@pytest.mark.parametrize("bad", [v for k, v in _BAD.items() if k != "None"], ids=[k for k in _BAD if k != "None"])
def test_a_sync_key_is_refused_when_its_intent_is_begun_before_the_write_is_sent(store_url: str, bad: object) -> None:
    with LinkStore(store_url) as store:
        store.try_lease("p", "me", ttl=60)
        begins: list[Callable[[], object]] = [
            lambda: store.begin("p", bad, "create"),  # type: ignore[arg-type]
            lambda: store.begin_many("p", [("k1", "create"), (bad, "create")]),  # type: ignore[list-item]
            lambda: begin_leased(store, "p", [("k1", "create"), (bad, "create")], "p", "me", 60),  # type: ignore[list-item]
        ]
        for begin in begins:
            with pytest.raises(ValidationError) as refused:
                begin()
            assert refused.value.field == "sync_key"
        _nothing_written(store)


@pytest.mark.parametrize("field", ["source_fp", "target_fp", "desired_fp"])
def test_a_fingerprint_with_a_nul_is_refused_by_name(store_url: str, field: str) -> None:
    with LinkStore(store_url) as store:
        with pytest.raises(ValidationError) as refused:
            store.put(_link(**{field: "ab\x00"}))
        assert refused.value.field == field
        _nothing_written(store)


def test_the_longest_key_is_kept_whole_by_every_backend(store_url: str) -> None:
    """:data:`MAX_KEY_BYTES` bytes of incompressible text, in the pair id and a key of one index entry (a
    PostgreSQL btree entry holds 2704 bytes), ASCII or not: stored, found and given back as they were."""
    rng = random.Random(7)
    ascii_key = "".join(
        rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(1000)
    )
    wide_key = "".join(rng.choice("\u00e9\u00e8\u00ea\u00eb\u00e0\u00e2\u00f4\u00fb") for _ in range(500))
    assert len(ascii_key.encode()) == len(wide_key.encode()) == MAX_KEY_BYTES
    with LinkStore(store_url) as store:
        link = Link(ascii_key, wide_key, ascii_key[::-1], wide_key[::-1], "s", "t")
        store.put_many([(link, store.begin(ascii_key, wide_key, "create"))])
        store.put(Link(ascii_key, ascii_key, ascii_key, ascii_key, "s", "t"))
        assert store.links(ascii_key) == [
            Link(ascii_key, wide_key, ascii_key[::-1], wide_key[::-1], "s", "t", store.links(ascii_key)[0].updated_at),
            Link(ascii_key, ascii_key, ascii_key, ascii_key, "s", "t", store.links(ascii_key)[1].updated_at),
        ]
        assert store.get(ascii_key, wide_key) is not None and store.pending() == []
        store.remember(ascii_key, wide_key, ascii_key)
        assert store.recall(ascii_key, wide_key) == ascii_key


def test_a_failure_s_message_is_kept_with_what_no_backend_stores_replaced(store_url: str) -> None:
    """An error a platform answered may echo a NUL (PostgreSQL refused it, and the intent it closed stayed
    pending, its failure lost behind a DataError): both backends close the intent and keep the message, the
    NUL and any surrogate written as U+FFFD."""
    with LinkStore(store_url) as store:
        first = store.begin("p", "k1", "create", detail="title \x00 x")
        store.finish(first, error="HTTP 400: bad title 'a\x00b' \ud83d")
        second = store.begin("p", "k2", "update", detail="plain")
        store.finish(second, error="")
        third = store.begin("p", "k3", "delete")
        assert store.resolve_pending("p") == 1
        run = store.record_run(RunRecord("p", "w:1:a", "2026-12-01T10:00:00Z", "", ok=False, error="x\x00y"))
        by_id = {row["id"]: row for row in store.dump("intents")}
        assert by_id[first]["detail"] == "HTTP 400: bad title 'a\ufffdb' \ufffd" and by_id[first]["state"] == "failed"
        assert (by_id[second]["detail"], by_id[second]["state"]) == ("", "done")  # '' is no failure, and not NULL
        assert (by_id[third]["detail"], by_id[third]["state"]) == (" (recovered)", "failed")
        (record,) = store.runs("p")
        assert (record.id, record.error, record.ok) == (run, "x\ufffdy", False)


@pytest.mark.parametrize(("field", "value"), [("kind", "a\x00"), ("name", "\ud800"), ("value", b"v")])
def test_a_name_no_backend_can_keep_is_refused_by_name(store_url: str, field: str, value: object) -> None:
    names = {"kind": "draft", "name": "main", "value": "est-1", field: value}
    with LinkStore(store_url) as store:
        with pytest.raises(ValidationError) as refused:
            store.remember(**names)  # type: ignore[arg-type]
        assert refused.value.field == field and store.dump("names") == []


def test_a_lease_holder_no_backend_can_keep_is_refused_by_name(store_url: str) -> None:
    with LinkStore(store_url) as store:
        for pair, owner, field in (("p\x00", "me", "pair_id"), ("p", "me\x00", "owner"), ("p", b"me", "owner")):
            with pytest.raises(ValidationError) as refused:
                store.try_lease(pair, owner, 60)  # type: ignore[arg-type]
            assert refused.value.field == field
        assert store.dump("leases") == []


@pytest.mark.parametrize("size", [0, -1])
def test_a_page_of_no_links_is_refused_not_read_as_a_pair_without_links(store_url: str, size: int) -> None:
    """SQLite read ``LIMIT 0`` as no links (a planner re-creates them all) and ``LIMIT -1`` as all of them,
    where PostgreSQL refused the second."""
    with LinkStore(store_url) as store:
        store.put(_link())
        with pytest.raises(ValidationError) as refused:
            next(store.link_pages("p", size))
        assert refused.value.field == "size"
        assert [[ln.sync_key for ln in page] for page in store.link_pages("p", 1)] == [["k1"]]


def test_a_negative_run_limit_is_refused_as_on_postgresql(store_url: str) -> None:
    with LinkStore(store_url) as store:
        store.record_run(RunRecord("p", "w:1:a", "2026-12-01T10:00:00Z", "2026-12-01T10:00:01Z"))
        with pytest.raises(ValidationError) as refused:
            store.runs(limit=-1)
        assert refused.value.field == "limit"
        assert store.runs(limit=0) == [] and len(store.runs(limit=1)) == 1


@pytest.mark.parametrize("bad", ["a\x00b", "a\ud800", "k" * (MAX_KEY_BYTES + 1)], ids=["NUL", "surrogate", "too long"])
def test_a_lookup_of_a_key_no_backend_keeps_is_refused_by_name_as_its_write_is(store_url: str, bad: str) -> None:
    """SQLite found nothing (and a remove counted a link change), PostgreSQL raised its own error."""
    with LinkStore(store_url) as store:
        store.put(_link())
        lookups: dict[str, Callable[[], object]] = {
            "links": lambda: store.links(bad),
            "pages": lambda: next(store.link_pages(bad)),
            "get": lambda: store.get("p", bad),
            "remove": lambda: store.remove("p", bad),
            "version": lambda: store.version(bad),
            "pending": lambda: store.pending(bad),
            "recall": lambda: store.recall("draft", bad),
            "forget": lambda: store.forget("draft", "main", bad),
        }
        for name, lookup in lookups.items():
            with pytest.raises(ValidationError) as refused:
                lookup()
            assert refused.value.field in ("pair_id", "sync_key", "name"), name
        assert [ln.sync_key for ln in store.links("p")] == ["k1"] and store.version("p") == 1
