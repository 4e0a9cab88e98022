"""The planner lets its indexes go as they stop being read: a plan of 100,000 linked pairs held three
indexes of them all (5 MB each) beside its 100,000 actions at its peak. Plans are the same either way."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from billing_milestones.sync import plan, plan_sync
from billing_milestones.sync._rows import MilestoneRow

from .test_plan_store_links import PAIR, _link, _source, _store, _target  # PAIR: delete_missing, mass delete


def _spied(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The planner's indexes as each slice of the source is planned (read from the planner's frame)."""
    seen: list[dict[str, Any]] = []
    real = plan._parts

    def parts(rows: list[MilestoneRow]) -> Iterator[list[MilestoneRow]]:
        for part in real(rows):
            local = sys._getframe(1).f_locals  # the planner's, which asks for the next slice
            held = local["by_source"]
            seen.append({"size": sys.getsizeof(held), "links": len(held), "ids": len(local["targets_by_id"])})
            yield part

    monkeypatch.setattr(plan, "_parts", parts)
    return seen


def _world(n: int) -> tuple[list[Any], list[Any], list[Any]]:
    sources = [_source(i) for i in range(n)]
    targets = [_target(s, 10_000 + i) for i, s in enumerate(sources)]
    links = [_link(s, t) for s, t in zip(sources, targets, strict=True)]
    sources[0] = sources[0].model_copy(update={"title": "edited in the source"})
    return [s for i, s in enumerate(sources) if i % 10 != 3], targets, links  # every tenth an orphan: deleted


def test_the_index_by_target_id_goes_once_every_link_holds_its_target_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plan, "COMPACT_FROM", 2)
    monkeypatch.setattr(plan, "PART", 16)
    sources, targets, links = _world(200)
    with _store(tmp_path, links) as store:
        seen = _spied(monkeypatch)
        ours = plan_sync(PAIR, sources, targets, store)
        looked = list(seen)
        theirs = plan_sync(PAIR, sources, targets, store.links(PAIR.id))
    assert ours.actions == theirs.actions and ours.to_json()["actions"] == theirs.to_json()["actions"]
    assert {"unchanged", "update", "delete"} <= {a.kind.value for a in ours.actions}
    assert looked and all(s["ids"] == 0 for s in looked)  # every link held its row: let go
    assert all(s["ids"] == 200 for s in seen[len(looked) :])  # plain links: read to the end


def test_the_index_of_links_by_source_shrinks_as_it_drains(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan, "COMPACT_FROM", 2)
    monkeypatch.setattr(plan, "PART", 16)
    sources, targets, links = _world(400)
    with _store(tmp_path, links) as store:
        seen = _spied(monkeypatch)
        ours = plan_sync(PAIR, sources, targets, store)
    first, last = seen[0], seen[-1]
    theirs = plan_sync(PAIR, sources, targets, links)
    assert ours.actions == theirs.actions
    # the last slice's 16 sources and the orphans' links are left, in a dict made again at their size
    assert first["links"] == 400 and last["links"] < 100 and first["size"] > 3 * last["size"], (first, last)
