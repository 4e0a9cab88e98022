"""An unchanged pair's action keeps its compact link folded (its packed bytes alone: the rest is the
action's own), and the planner holds the compact links only in its index by source key, so each goes once
its source is planned. Plans are the same either way; every action still gives the store's link back."""

from __future__ import annotations

import dataclasses
import pickle
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from billing_milestones.sync import Link, plan, plan_sync
from billing_milestones.sync._linked import Linked, folded, linked, read_links
from billing_milestones.sync._rows import MilestoneRow, row_of
from billing_milestones.sync.actions import held_link, source_row, target_row

from .test_plan_indexes import _world as many
from .test_plan_store_links import PAIR, _store, _world


@pytest.fixture(autouse=True)
def _compact_from_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan, "COMPACT_FROM", 2)


def _kept(action: Any) -> object:
    return object.__getattribute__(action, "_link")


def test_an_unchanged_pair_keeps_its_link_folded_and_gives_the_store_s_link_back(tmp_path: Path) -> None:
    sources, targets, links = many(40)  # in step, one edited in the source, every tenth an orphan
    with _store(tmp_path, links) as store:
        ours = plan_sync(PAIR, sources, targets, store)
        theirs = plan_sync(PAIR, sources, targets, store.links(PAIR.id))
    assert ours.actions == theirs.actions and [a.link for a in ours.actions] == [a.link for a in theirs.actions]
    unchanged = [a for a in ours.actions if a.kind.value == "unchanged"]
    assert len(unchanged) == 35 and all(type(_kept(a)) is bytes for a in unchanged)
    for a in unchanged:
        link = held_link(a)
        assert type(link) is Linked and link._source is source_row(a) and link._target is target_row(a)
        assert link.sync_key is a.sync_key and link.pair_id == PAIR.id and link.link() in links
    # the actions that write keep their Linked: their link is read when they are applied
    writing = [a for a in ours.actions if a.kind.value != "unchanged"]
    assert {a.kind.value for a in writing} == {"update", "delete"} and all(type(_kept(a)) is Linked for a in writing)
    again = pickle.loads(pickle.dumps(ours))
    assert [a.link for a in again.actions] == [a.link for a in theirs.actions]


def test_an_unchanged_pair_whose_link_its_action_cannot_give_back_keeps_it(tmp_path: Path) -> None:
    sources, targets, links = _world()  # in step: one link packed as texts, one naming another container
    with _store(tmp_path, links) as store:
        ours = plan_sync(PAIR, sources, targets, store)
        assert [a.link for a in ours.actions] == [a.link for a in plan_sync(PAIR, sources, targets, links).actions]
    unchanged = [a for a in ours.actions if a.kind.value == "unchanged"]
    assert len(unchanged) == 3 and all(type(_kept(a)) is Linked for a in unchanged)


def _one() -> tuple[Linked, MilestoneRow, MilestoneRow, Link]:
    """The compact link of an in-step pair, its link's source planned (it holds the source row)."""
    sources, targets, links = _world()
    rows = {r.id: r for r in (row_of(t, keep=False) for t in targets) if r.id is not None}
    (one,), _ = linked([links[2 - 1]], rows)
    source = row_of(sources[1 - 1], keep=False)
    one.listed(source)
    target = rows[one.target_id]
    return one, source, target, links[1]


def test_a_link_is_folded_only_where_the_action_gives_back_all_it_holds() -> None:
    one, source, target, _ = _one()
    assert folded(one, PAIR.id, one.sync_key, source, target) is one._packed
    other_row = row_of(target.milestone(), keep=False)
    assert folded(one, PAIR.id, one.sync_key, other_row, target) is one  # another source row
    assert folded(one, PAIR.id, one.sync_key, source, other_row) is one  # another target row
    assert folded(one, "another pair", one.sync_key, source, target) is one
    assert folded(one, PAIR.id, "".join(["x", one.sync_key])[1:], source, target) is one  # equal, not the same
    texts = dataclasses.replace(one.link(), target_fp=one.target_fp.upper())  # packed as its four texts
    (as_text,), _ = linked([texts], {target.id: target} if target.id else {})
    as_text.listed(source)
    assert type(as_text._packed) is tuple and folded(as_text, PAIR.id, as_text.sync_key, source, target) is as_text


def test_the_planner_holds_compact_links_only_in_its_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[Any, int]] = []
    real = plan._parts

    def parts(rows: list[MilestoneRow]) -> Iterator[list[MilestoneRow]]:
        for part in real(rows):
            local = sys._getframe(1).f_locals
            seen.append((local["link_list"], len(local["by_source"])))
            yield part

    monkeypatch.setattr(plan, "_parts", parts)
    sources, targets, links = _world()
    with _store(tmp_path, links) as store:
        plan_sync(PAIR, sources, targets, store)
        assert seen == [((), len(links))]
        seen.clear()
        plan_sync(PAIR, sources, targets, store.links(PAIR.id))  # the caller's links: kept as given
        assert [(list(kept), n) for kept, n in seen] == [(links, len(links))]


def test_compact_links_sharing_a_source_key_are_kept_in_their_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A store keeps one link a source key; should two come, the index holds one: the list holds both, and
    # the one the index lost is planned as an orphan (a delete of its target).
    sources, targets, links = _world()
    twice = [*links, dataclasses.replace(links[1], sync_key="another key", target_key="kantata:900/999")]
    real = read_links

    def read(*args: Any) -> Any:
        _, compact, held = real(*args)
        return linked(twice, args[2])[0], compact, held

    monkeypatch.setattr(plan, "read_links", read)
    with _store(tmp_path, links) as store:
        ours = plan_sync(PAIR, sources, targets, store)
    assert len([a for a in ours.actions if a.link is not None]) == len(twice)  # each link planned
    orphan = next(a for a in ours.actions if a.link == links[1])
    assert orphan.kind.value == "delete" and orphan.target is not None
