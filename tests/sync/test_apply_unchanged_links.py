"""A pair in step writes nothing to its link store: an unchanged milestone's link, as the plan read it, is not put
again (that was a store round trip and a pair version every run, for every linked milestone of a steady pair);
one whose stored fingerprints no longer match is refreshed."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from billing_milestones.demo import build_demo_world
from billing_milestones.sync import ActionKind, LinkStore, apply_plan, load_sides, plan_sync


def _sync(pair: Any, clients: Any, store: LinkStore) -> Any:
    source, target = load_sides(pair, clients)
    plan = plan_sync(pair, source, target, store)
    apply_plan(plan, clients, store)
    return plan


def test_a_pair_in_step_puts_no_link_and_keeps_its_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    world = build_demo_world()
    _draft, pair = world.pairs("unused")
    with ExitStack() as stack, LinkStore(tmp_path / "links.db") as store:
        clients = world.clients(stack)
        first = _sync(pair, clients, store)
        assert [a.kind for a in first.actions].count(ActionKind.CREATE) >= 2
        before, version = {ln.sync_key: ln for ln in store.links(pair.id)}, store.version(pair.id)
        puts: list[Any] = []
        monkeypatch.setattr(store, "put", lambda link, **kw: puts.append(link))
        again = _sync(pair, clients, store)
        assert {a.kind for a in again.actions} == {ActionKind.UNCHANGED}
        monkeypatch.undo()
        assert puts == [] and store.version(pair.id) == version
        assert {ln.sync_key: ln for ln in store.links(pair.id)} == before  # updated_at included


def test_an_unchanged_milestone_whose_stored_fingerprint_is_stale_is_refreshed(tmp_path: Path) -> None:
    """The fields agree (the plan says in step), but the stored source fingerprint is another's (a source
    change that translates to the same target, a fingerprint made by another formula): the link is put with
    the fingerprints as they are now, or the next run would read the source as changed."""
    world = build_demo_world()
    _draft, pair = world.pairs("unused")
    with ExitStack() as stack, LinkStore(tmp_path / "links.db") as store:
        clients = world.clients(stack)
        _sync(pair, clients, store)
        fresh = {ln.sync_key: ln.source_fp for ln in store.links(pair.id)}
        stale = sorted(fresh)[0]
        store._raw("UPDATE links SET source_fp = 'stale' WHERE sync_key = ?", [stale])
        version = store.version(pair.id)
        again = _sync(pair, clients, store)
        assert {a.kind for a in again.actions} == {ActionKind.UNCHANGED}
        assert {ln.sync_key: ln.source_fp for ln in store.links(pair.id)} == fresh
        assert store.version(pair.id) == version + 1  # the one link put again, no other
