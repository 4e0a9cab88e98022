"""The planner's rows (what load_sides streams a listing into) plan exactly as the milestones they come from.

``plan_digests.txt`` holds, for each seeded scenario of ``_scenarios.py``, the digest of the plan JSON that
the planner made before it worked on rows (commit 0229a8b, planning from lists of milestones): the plans of
today, from milestones and from rows, must be byte-identical to those.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from billing_milestones import Milestone, MilestoneKey, Money, Platform, errors
from billing_milestones.sync import MilestoneRow, PlannedAction, SyncPlan, plan_sync
from billing_milestones.sync._rows import Shared, row_of
from billing_milestones.sync.actions import desired_row, source_row, target_row

from ._scenarios import SEEDS, Scenario, digest, plan_text, scenario

GOLDEN = {
    int(seed): value
    for seed, value in (
        line.split() for line in (Path(__file__).with_name("plan_digests.txt")).read_text().splitlines()
    )
}


def _plan(sc: Scenario, *, rows: bool) -> SyncPlan | str:
    shared = Shared()
    source = [row_of(m, keep=False, shared=shared) for m in sc.source] if rows else sc.source
    target = [row_of(m, keep=False, shared=shared) for m in sc.target] if rows else sc.target
    try:
        return plan_sync(sc.pair, source, target, sc.links, policy=sc.policy)
    except errors.BillingMilestonesError as exc:
        return f"{type(exc).__name__}: {exc}"


def _text(plan: SyncPlan | str) -> str:
    return plan if isinstance(plan, str) else plan_text(plan)


def test_every_seed_has_a_recorded_plan() -> None:
    assert sorted(GOLDEN) == list(SEEDS)


@pytest.mark.parametrize("seed", SEEDS)
def test_plans_from_milestones_and_from_rows_are_the_recorded_plan(seed: int) -> None:
    sc = scenario(seed)
    full, compact = _plan(sc, rows=False), _plan(sc, rows=True)
    assert digest(_text(full)) == GOLDEN[seed]
    assert _text(compact) == _text(full)
    if isinstance(full, str) or isinstance(compact, str):
        return
    for a, b in zip(full.actions, compact.actions, strict=True):
        assert (a.kind, a.sync_key, a.reason, a.diff, a.link, a.fix) == (
            b.kind,
            b.sync_key,
            b.reason,
            b.diff,
            b.link,
            b.fix,
        )
        assert a.writes == b.writes
        for mine, theirs in ((a.source, b.source), (a.target, b.target), (a.desired, b.desired)):
            # The same milestones, but for the payload a streamed row does not keep.
            assert (mine is None) == (theirs is None)
            if mine is not None and theirs is not None:
                assert theirs.raw == {}
                assert mine.model_dump(exclude={"raw"}) == theirs.model_dump(exclude={"raw"})
                assert mine.model_fields_set == theirs.model_fields_set


def test_a_plan_from_milestones_gives_back_the_very_milestones() -> None:
    sc = next(s for s in map(scenario, SEEDS) if s.source and s.target and s.links)
    plan = plan_sync(sc.pair, sc.source, sc.target, sc.links, policy=sc.policy)
    listed = {id(m) for m in sc.source + sc.target}
    seen = [m for a in plan.actions for m in (a.source, a.target) if m is not None]
    assert seen and all(id(m) in listed for m in seen)


def _listed() -> Milestone:
    m = Milestone(
        key=MilestoneKey(platform=Platform.KANTATA, id="5", container_id="900"),
        title="Kick-off",
        amount=Money("10.00", "USD"),
        raw={"id": "5", "title": "Kick-off"},
    ).with_sync_key("bm0123456789abcdef")
    return m.model_copy(update={"external_refs": (*m.external_refs,)})


def test_a_streamed_row_holds_the_fields_but_not_the_payload() -> None:
    m = _listed()
    row = row_of(m, keep=False)
    assert row.raw == {} and row.milestone().raw == {}
    assert row.milestone().model_dump(exclude={"raw"}) == m.model_dump(exclude={"raw"})
    assert row.milestone() == m.model_copy(update={"raw": {}})
    assert (row.text, row.sync_key, row.key) == (str(m.key), "bm0123456789abcdef", m.key)
    assert row == row_of(m, keep=False) and row != row_of(m.model_copy(update={"title": "Other"}), keep=False)


def test_a_kept_row_gives_back_its_milestone_raw_and_all() -> None:
    m = _listed()
    row = row_of(m)
    assert row.milestone() is m and row.raw == m.raw and row.key is m.key


def test_rows_of_one_listing_share_their_repeated_values() -> None:
    shared = Shared()
    a, b = (row_of(_listed(), keep=False, shared=shared) for _ in range(2))
    assert a._refs is b._refs and a.container_id is b.container_id


def test_a_translation_row_has_no_key() -> None:
    sc = next(s for s in map(scenario, SEEDS) if any(a.kind.value == "create" for a in _actions(s)))
    action = next(a for a in _actions(sc) if a.kind.value == "create")
    desired = desired_row(action)
    assert isinstance(desired, MilestoneRow) and desired.key is None and desired.text == ""
    assert source_row(action) is not None and target_row(action) is None


def _actions(sc: Scenario) -> tuple[PlannedAction, ...]:
    plan = _plan(sc, rows=True)
    return () if isinstance(plan, str) else plan.actions


def test_the_planners_constructor_makes_what_the_dataclass_makes() -> None:
    """``planned`` sets attributes itself (speed): a field added to PlannedAction must be added there too."""
    import dataclasses

    from billing_milestones.sync.actions import ActionKind, planned

    m = row_of(_listed(), keep=False)
    args = (ActionKind.UPDATE, "bm1", "why", m, m, m, (), None, True)
    fast, slow = planned(*args), PlannedAction(*args)
    assert fast == slow and fast.__getstate__() == slow.__getstate__()
    assert [f.name for f in dataclasses.fields(PlannedAction)] == [
        "kind", "sync_key", "reason", "source", "target", "desired", "diff", "link", "fix",
    ]  # fmt: skip


def test_a_plan_from_rows_pickles() -> None:
    import pickle

    sc = next(s for s in map(scenario, SEEDS) if s.source and s.links)
    plan = _plan(sc, rows=True)
    assert not isinstance(plan, str)
    again = pickle.loads(pickle.dumps(plan))
    assert plan_text(again) == plan_text(plan) and again.actions == plan.actions
