"""A plan from a link store reads the pair's links a page at a time and keeps each compact (:mod:`._linked`),
and plans exactly what it plans from the same links given as a list."""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest

from billing_milestones import Milestone, MilestoneKey, Money, Platform
from billing_milestones.sync import Link, LinkStore, SyncPair, plan, plan_sync, sync_key_for, translate
from billing_milestones.sync._linked import Linked, linked
from billing_milestones.sync._rows import row_of
from billing_milestones.sync.actions import held_link, source_row
from billing_milestones.sync.plan import source_fingerprint, target_fingerprint

from .._postgres import PostgresServer, fresh_database

PAIR = SyncPair(Platform.AUTOTASK, "77", Platform.KANTATA, "900", delete_missing=True, allow_mass_delete=True)
STAMP = "2026-12-01T10:00:00.123+00:00"


@pytest.fixture(autouse=True)
def _compact_from_two(monkeypatch: pytest.MonkeyPatch) -> None:
    """Links kept compact from two on (5,000 in a sync): these pairs are small."""
    monkeypatch.setattr(plan, "COMPACT_FROM", 2)


def _source(i: int, title: str = "") -> Milestone:
    key = MilestoneKey(platform=Platform.AUTOTASK, id=str(i), container_id="77")
    return Milestone(key=key, title=title or f"M{i}", amount=Money(f"{i}.50", "USD"), due="2027-01-31")


def _target(source: Milestone, target_id: int) -> Milestone:
    key = sync_key_for(PAIR, source.key)  # type: ignore[arg-type]
    return translate(source, PAIR, sync_key=key).model_copy(
        update={"key": MilestoneKey(platform=Platform.KANTATA, id=str(target_id), container_id="900")}
    )


def _link(source: Milestone, target: Milestone, **changes: str) -> Link:
    link = Link(
        PAIR.id,
        sync_key_for(PAIR, source.key),  # type: ignore[arg-type]
        str(source.key),
        str(target.key),
        source_fingerprint(source),
        target_fingerprint(target, PAIR),
        STAMP,
        target_fingerprint(target, PAIR),
    )
    return dataclasses.replace(link, **changes)


def _world() -> tuple[list[Milestone], list[Milestone], list[Link]]:
    """Seven linked pairs: in step, edited on either side, the odd link (texts the packing must keep, a
    target key in another container), a source gone (an orphan delete) and a target gone."""
    sources = [_source(i) for i in range(1, 8)]
    targets = [_target(s, 100 + i) for i, s in enumerate(sources)]
    links = [_link(s, t) for s, t in zip(sources, targets, strict=True)]
    links[2] = dataclasses.replace(links[2], source_fp="NOT-HEX", desired_fp="")
    links[3] = dataclasses.replace(links[3], target_fp=links[3].target_fp.upper(), updated_at="")
    links[4] = dataclasses.replace(links[4], target_key="kantata:901/" + links[4].target_id)  # same id, elsewhere
    sources[1] = sources[1].model_copy(update={"title": "edited in the source"})
    targets[0] = targets[0].model_copy(update={"title": "edited on the target"})
    del sources[5]  # its link is an orphan: a delete
    del targets[6]  # its link's target is gone
    return sources, targets, links


def _store(tmp_path: Path, links: list[Link]) -> LinkStore:
    store = LinkStore(tmp_path / "links.db")
    store.load("links", [dataclasses.asdict(ln) for ln in links])
    return store


@pytest.mark.parametrize("size", [1, 2, 3, 7, 5000])
def test_link_pages_give_the_links_in_order_at_any_page_size(tmp_path: Path, size: int) -> None:
    _, _, links = _world()
    other = dataclasses.replace(links[0], pair_id="another pair")
    with _store(tmp_path, [links[0], other, *links[1:]]) as store:
        pages = list(store.link_pages(PAIR.id, size))
        assert [ln for page in pages for ln in page] == store.links(PAIR.id) == links
        assert all(len(page) <= size for page in pages) and len(pages) == -(-len(links) // size)


def test_link_pages_on_postgresql_give_the_links_in_order(postgres_server: PostgresServer) -> None:
    _, _, links = _world()
    with LinkStore(fresh_database(postgres_server)) as store:
        store.load("links", [dataclasses.asdict(ln) for ln in reversed(links)])  # seq: the reverse of the keys
        pages = list(store.link_pages(PAIR.id, 3))
        assert [ln for page in pages for ln in page] == store.links(PAIR.id) == links[::-1]
        assert [len(page) for page in pages] == [3, 3, 1]


@pytest.mark.parametrize(("compact_from", "page"), [(2, 1000), (2, 1), (5, 2), (7, 3)])
def test_a_plan_from_the_store_is_the_plan_from_its_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compact_from: int, page: int
) -> None:
    # whether the first COMPACT_FROM links end on a page boundary or within a page, none is lost or repeated
    monkeypatch.setattr(plan, "COMPACT_FROM", compact_from)
    monkeypatch.setattr(plan, "LINK_PAGE", page)
    sources, targets, links = _world()
    with _store(tmp_path, links) as store:
        ours = plan_sync(PAIR, sources, targets, store)
        theirs = plan_sync(PAIR, sources, targets, store.links(PAIR.id))
    assert [a.kind.value for a in ours.actions] == [a.kind.value for a in theirs.actions]
    assert ours.actions == theirs.actions and ours.to_json()["actions"] == theirs.to_json()["actions"]
    assert [a.link for a in ours.actions] == [a.link for a in theirs.actions]
    assert {a.kind.value for a in ours.actions} >= {"unchanged", "update", "delete", "conflict"}
    # kept compact, read back as the store's links
    assert all(type(held_link(a)) is Linked for a in ours.actions if a.link is not None)
    again = pickle.loads(pickle.dumps(ours))
    assert [a.link for a in again.actions] == [a.link for a in theirs.actions]


def test_a_pair_with_fewer_links_than_a_page_keeps_the_store_s_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # packing a small pair's links costs more CPU than their memory is worth: one page, kept as read
    sources, targets, links = _world()
    monkeypatch.setattr(plan, "COMPACT_FROM", len(links) + 1)
    with _store(tmp_path, links) as store:
        ours = plan_sync(PAIR, sources, targets, store)
        assert ours.actions == plan_sync(PAIR, sources, targets, store.links(PAIR.id)).actions
    assert all(type(held_link(a)) is Link for a in ours.actions if a.link is not None)
    monkeypatch.setattr(plan, "COMPACT_FROM", len(links))  # a full first page: the rest may follow
    (tmp_path / "again").mkdir()
    with _store(tmp_path / "again", links) as store:
        assert all(type(held_link(a)) is Linked for a in plan_sync(PAIR, sources, targets, store).actions)


def test_the_store_is_read_in_pages_of_link_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The planner holds at most one page of the store's rows (a dict and eight texts each) beside the links
    it packed: it asks for pages of LINK_PAGE, not the store's default of 5,000 (one page of every link)."""
    monkeypatch.setattr(plan, "LINK_PAGE", 3)  # COMPACT_FROM is 2: a page of that would read [2, 2, 2, 1]
    sources, targets, links = _world()
    pages: list[int] = []
    with _store(tmp_path, links) as store:
        read = store.link_pages

        def counted(pair_id: str, size: int = 5000) -> Iterator[list[Link]]:
            for page in read(pair_id, size):
                pages.append(len(page))
                yield page

        monkeypatch.setattr(store, "link_pages", counted)
        plan_sync(PAIR, sources, targets, store)
    assert pages == [3, 3, 1]


def test_a_compact_link_keeps_the_target_row_and_packs_what_reads_back_the_same() -> None:
    _, targets, links = _world()
    rows = {r.id: r for r in map(row_of, targets) if r.id is not None}
    kept, _ = linked(links, rows)
    assert [k.link() for k in kept] == links
    in_step = kept[1]
    assert in_step._target is rows[in_step.target_id] and isinstance(in_step._packed, bytes)
    assert len(in_step._packed) == 56 and in_step.updated_at == STAMP and in_step.desired_fp == links[1].desired_fp
    assert in_step.sync_key is rows[in_step.target_id].sync_key  # one text for both
    assert kept[2]._packed == ("NOT-HEX", links[2].target_fp, "", STAMP)  # not hex: kept as text
    assert type(kept[3]._packed) is tuple  # capitals read back as lowercase: kept as text
    assert kept[4]._target == links[4].target_key  # the id is listed, but in another container
    assert kept[6]._target == links[6].target_key  # not listed
    no_desired = linked([dataclasses.replace(links[1], desired_fp="")], rows)[0][0]
    assert len(no_desired._packed) == 40 and no_desired.link() == dataclasses.replace(links[1], desired_fp="")


@pytest.mark.parametrize(
    "stamp",
    [
        "",
        "yesterday",
        "2026-12-01T10:00:00.123",  # no zone
        "2026-12-01T10:00:00.123+01:00",  # another zone
        "2026-12-01T10:00:00+00:00",  # no milliseconds
        "2026-12-01T10:00:00.123456+00:00",  # microseconds
        "2026-12-01 10:00:00.123+00:00",  # a space for the T
    ],
)
def test_a_stamp_that_would_read_back_otherwise_is_kept_as_written(stamp: str) -> None:
    _, targets, links = _world()
    rows = {r.id: r for r in map(row_of, targets) if r.id is not None}
    (kept,), _ = linked([dataclasses.replace(links[1], updated_at=stamp)], rows)
    assert type(kept._packed) is tuple and kept.updated_at == stamp


def test_once_planned_a_compact_link_holds_its_source_row(tmp_path: Path) -> None:
    sources, targets, links = _world()
    with _store(tmp_path, links) as store:
        plan = plan_sync(PAIR, sources, targets, store)
    held = [(a, held_link(a)) for a in plan.actions]
    for action, link in held:
        assert type(link) is Linked
        if source_row(action) is not None:  # the key's text went with the index's entry
            assert link.planned and link._source is source_row(action)
        else:  # an orphan: its source is not listed; its key is held as the planner's index has it
            assert not link.planned and link._source == link.index == int(link.source_key.rsplit("/")[-1])


def test_the_version_is_read_before_the_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A link written while the pages are read moves the version on: the plan carries the older one, so
    # apply refuses it rather than apply a plan made from links that changed under it.
    sources, targets, links = _world()
    with _store(tmp_path, links) as store:
        before = store.version(PAIR.id)
        pages = store.link_pages

        def pages_and_a_write(pair_id: str, size: int = 5000):  # type: ignore[no-untyped-def]
            for page in pages(pair_id, size):
                store.put(dataclasses.replace(links[0], target_fp="moved on"))
                yield page

        monkeypatch.setattr(store, "link_pages", pages_and_a_write)
        plan = plan_sync(PAIR, sources, targets, store)
        assert plan.links_version == before != store.version(PAIR.id)


def test_deletes_the_mass_delete_guard_refuses_keep_their_compact_link_and_stay_unfixed(tmp_path: Path) -> None:
    sources, targets, links = _world()
    guarded = dataclasses.replace(PAIR, allow_mass_delete=False)
    with _store(tmp_path, links) as store:
        plan = plan_sync(guarded, sources[:1], targets, store)  # six of seven linked milestones gone
    refused = [a for a in plan.actions if a.kind.value == "conflict" and "mass-delete guard" in a.reason]
    assert len(refused) == 5 and plan.notes  # the sixth's target is gone too: forgetting its link deletes nothing
    assert all(type(held_link(a)) is Linked and a.fix is False and not a.writes for a in refused)
    assert [a.link for a in refused] == [ln for ln in links[1:] if ln is not links[6]]
