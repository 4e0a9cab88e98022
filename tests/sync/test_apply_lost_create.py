"""A create whose reply was lost (no answer, a 5xx, an unreadable 2xx) and whose sync key the recovery's
listing does not find (sync/apply.py ``_recover_creates``): the request may still be being served (a read
timeout fires long before the request bound the settle window is made of, a gateway's 504 leaves the platform
working), so its intent stays pending and the next run waits out the window before it lists the target, then
adopts what landed instead of creating it again."""

from __future__ import annotations

import time

import pytest

from billing_milestones import errors
from billing_milestones.sync import ActionKind, LinkStore, apply_plan, plan_sync, settle_pending
from billing_milestones.sync import _settle as settle

from .fakes import FakeView
from .test_apply_rules import LOST, View, kept
from .test_plan import PAIR, src


def test_a_lost_create_not_found_yet_stays_pending_and_the_rerun_adopts_what_landed_late(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    view, store = View(store_only=0), LinkStore(":memory:")  # the reply lost, nothing stored yet
    plan = plan_sync(PAIR, [src(1)], [], store)
    (create,) = plan.actions
    (result,) = apply_plan(plan, view, store).results
    assert not result.ok and result.error is not None and result.error.startswith(str(LOST))
    assert "pending" in result.error
    assert [i.sync_key for i in store.pending(PAIR.id)] == [create.sync_key]
    with pytest.raises(errors.PendingWritesError):  # a rerun now would wait before listing the target
        settle_pending(store, PAIR.id, max_wait=0.0)

    assert create.desired is not None
    FakeView.create(view, PAIR.target_container, [create.desired])  # the request lands, late
    view.store_only = None
    monkeypatch.setattr(settle, "_wall", lambda: time.time() + settle.DEFAULT_WRITE_SETTLE + 1)
    assert settle_pending(store, PAIR.id, max_wait=0.0) == 0.0  # the window is over: the rerun lists
    rerun = plan_sync(PAIR, [src(1)], kept(view), store)
    assert [a.kind for a in rerun.actions] == [ActionKind.ADOPT]
    assert apply_plan(rerun, view, store).ok
    assert len(kept(view)) == 1 and store.pending(PAIR.id) == []  # one milestone, linked; nothing open
