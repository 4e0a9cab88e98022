"""A batch of links is one write, stamped once on every backend: its links' ``updated_at`` and the intents it
closes' ``finished_at`` are one time (PostgreSQL's batch function stamped them so; link by link, each link
and intent was stamped as its statement was made)."""

from __future__ import annotations

import itertools

import pytest

from billing_milestones.sync import Link, LinkStore
from billing_milestones.sync.store import linkstore


@pytest.mark.parametrize("shared", [False, True], ids=["distinct keys", "a shared key"])
def test_a_batch_s_links_and_closed_intents_share_one_stamp(
    store_url: str, shared: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticks = itertools.count()
    monkeypatch.setattr(linkstore, "now_text", lambda: f"2026-12-01T10:00:{next(ticks):02d}.000+00:00")
    with LinkStore(store_url) as store:
        ids = store.begin_many("p", [(f"k{n}", "create") for n in range(3)])
        last = Link("p", "k0" if shared else "k2", "autotask:1/2", "kantata:2/2", "s", "t")
        links = [Link("p", f"k{n}", f"autotask:1/{n}", f"kantata:2/{n}", "s", "t") for n in range(2)] + [last]
        store.put_many(list(zip(links, ids, strict=True)))
        stamps = {ln.updated_at for ln in store.links("p")}
        closed = {row["finished_at"] for row in store.dump("intents")}
        assert len(stamps) == 1 and closed == stamps, (stamps, closed)


def test_a_put_s_link_and_the_intent_it_closes_share_one_stamp(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = itertools.count()
    monkeypatch.setattr(linkstore, "now_text", lambda: f"2026-12-01T10:00:{next(ticks):02d}.000+00:00")
    with LinkStore(store_url) as store:
        store.put(Link("p", "k1", "s", "t", "s", "t"), intent_id=store.begin("p", "k1", "create"))
        (link,) = store.links("p")
        assert [row["finished_at"] for row in store.dump("intents")] == [link.updated_at]
