"""A moved store keeps what makes the next sync safe: a create whose reply was lost is copied pending (its id
and time), so the first sync on the new store waits out its window and adopts what landed instead of creating
it again; and new intents and runs take ids after the copied ones on either backend (identity sequences moved
past them), so no insert collides with a copied row."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from billing_milestones import errors
from billing_milestones.sync import ActionKind, LinkStore, RunRecord, apply_plan, plan_sync, settle_pending
from billing_milestones.sync import _settle as settle
from billing_milestones.sync.store.migrate import copy_store

from .._postgres import fresh_database
from .fakes import FakeView
from .test_apply_rules import View, kept
from .test_plan import PAIR, src


def other_backend(store_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if store_url.startswith("postgresql"):
        return f"sqlite:///{tmp_path / 'moved.sqlite3'}"
    return fresh_database(request.getfixturevalue("postgres_server"))


def test_a_lost_create_copied_pending_is_adopted_on_the_new_store_not_created_again(
    store_url: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = View()
    with LinkStore(store_url) as store:
        assert apply_plan(plan_sync(PAIR, [src(1)], [], store), view, store).ok  # one linked milestone
        view.store_only = 0  # the next create's reply is lost, nothing stored yet
        plan = plan_sync(PAIR, [src(1), src(2)], kept(view), store)
        (create,) = [a for a in plan.actions if a.kind is ActionKind.CREATE]
        assert not apply_plan(plan, view, store).ok
        (lost,) = store.pending(PAIR.id)
    moved = other_backend(store_url, tmp_path, request)
    copy_store(store_url, moved)
    assert create.desired is not None
    FakeView.create(view, PAIR.target_container, [create.desired])  # the request lands, late
    view.store_only = None
    with LinkStore(moved) as store:
        assert store.pending(PAIR.id) == [lost]  # same id, same time: its settle window goes on
        with pytest.raises(errors.PendingWritesError):
            settle_pending(store, PAIR.id, max_wait=0.0)
        monkeypatch.setattr(settle, "_wall", lambda: time.time() + settle.DEFAULT_WRITE_SETTLE + 1)
        assert settle_pending(store, PAIR.id, max_wait=0.0) == 0.0
        rerun = plan_sync(PAIR, [src(1), src(2)], kept(view), store)
        assert sorted(a.kind.value for a in rerun.actions) == sorted([ActionKind.ADOPT.value, "unchanged"])
        assert apply_plan(rerun, view, store).ok
        assert len(kept(view)) == 2 and store.pending(PAIR.id) == []
        assert len(store.links(PAIR.id)) == 2


def test_new_ids_continue_after_the_copied_ones(store_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    with LinkStore(store_url) as store:
        store.begin("p", "k1", "create")
        store._raw(
            "INSERT INTO intents (id, pair_id, sync_key, action, state, created_at) "
            "VALUES (40, 'p', 'k2', 'update', 'pending', 'then')"
        )
        store._raw(
            "INSERT INTO runs (id, pair_id, worker, started_at, finished_at, ok) VALUES (30, 'p', 'w', 's', 'f', 1)"
        )
    moved = other_backend(store_url, tmp_path, request)
    copy_store(store_url, moved)
    with LinkStore(moved) as store:
        assert store.begin("p", "k3", "create") == 41
        assert store.begin_many("p", [("k4", "create"), ("k5", "update")]) == [42, 43]
        assert store.record_run(RunRecord("p", "w", "s", "f")) == 31
        assert [i.id for i in store.pending("p")] == [1, 40, 41, 42, 43]
