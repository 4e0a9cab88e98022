"""Each failed write keeps the exception it failed with (``ActionResult.cause``) on the paths no other test
read it on: a duplicate's removal, crm.com's whole-set write, and a create whose answer was lost and is not
on the target. A worker reads the cause alone to fail a refused run's job at once or keep its retries
(``workers._run.failed_run``): a dropped cause turns a refusal into a retried run."""

from __future__ import annotations

import pytest

from billing_milestones import Milestone, Money, Platform, Trigger, errors
from billing_milestones.sync import ActionKind, LinkStore, PlannedAction, SyncPair, SyncPlan, TriggerMap, apply_plan
from billing_milestones.sync.apply import load_sides
from billing_milestones.sync.plan import plan_sync

from .fakes import FakeSetView, FakeView
from .test_plan import PAIR, src


def _error(status: int, platform: str = "kantata") -> errors.APIStatusError:
    cls = errors.status_error_class(status)
    return cls(f"answered {status}", platform=platform, method="POST", path="/x", status_code=status)


#: A refusal a worker fails at once (for what was sent, for who sent it) and a failure it retries.
FAILURES = [403, 422, 503]


@pytest.mark.parametrize("status", FAILURES)
def test_a_duplicate_whose_removal_fails_keeps_the_exception(status: int) -> None:
    view, store = FakeView(Platform.KANTATA), LinkStore(":memory:")
    extra = view.add("900", Milestone(title="M1", amount=Money("100.00", "USD")))
    failure = view.fail["delete"] = _error(status)
    action = PlannedAction(ActionKind.DUPLICATE, "bm1", "another copy", None, extra, fix=True)
    (r,) = apply_plan(SyncPlan(PAIR, (action,)), view, store).results
    assert (r.ok, r.error) == (False, str(failure))
    assert r.cause is failure


@pytest.mark.parametrize("status", FAILURES)
def test_a_failed_whole_set_write_gives_every_failed_write_the_exception(status: int) -> None:
    """A create and the delete of a stage the source no longer has: both fail with the one estimate's error."""
    source = FakeView(Platform.KANTATA)
    source.add("900", Milestone(title="S41", amount=Money("30.00", "EUR"), trigger=Trigger.on_completion("41")))
    target = FakeSetView(Platform.CRMCOM)
    target.replace("est-1", [Milestone(title="Old", amount=Money("5.00", "EUR"), trigger=Trigger.on_stage("st-z"))])
    failure = target.fail["replace"] = _error(status, "crmcom")
    pair = SyncPair(
        Platform.KANTATA, "900", Platform.CRMCOM, "est-1", triggers=TriggerMap({"st-a": "41"}), delete_missing=True
    )
    store = LinkStore(":memory:")
    views = {Platform.KANTATA: source, Platform.CRMCOM: target}
    src, tgt = load_sides(pair, views)
    result = apply_plan(plan_sync(pair, src, tgt, store), views, store)
    assert sorted(r.action.kind.value for r in result.failures) == ["create", "delete"]
    assert all(r.cause is failure and r.error == str(failure) for r in result.failures)


def test_a_create_whose_answer_failed_and_is_not_on_the_target_keeps_the_exception() -> None:
    view, store = FakeView(Platform.KANTATA), LinkStore(":memory:")
    failure = view.fail["create"] = _error(503)  # stored nothing: the lookup by sync key finds nothing
    source = src(1)
    action = PlannedAction(ActionKind.CREATE, "bm1", "new", source, None, source.model_copy(update={"key": None}))
    (r,) = apply_plan(SyncPlan(PAIR, (action,)), view, store).results
    assert r.ok is False and str(failure) in str(r.error) and "left pending" in str(r.error)
    assert r.cause is failure
