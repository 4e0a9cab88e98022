"""load_sides points a target row at the source's equal title, description and amount objects, and a plan
from such rows is the plan from the milestones themselves (generated scenarios, hypothesis)."""

from __future__ import annotations

import builtins
import pickle
from collections.abc import Iterator
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from billing_milestones import Milestone, MilestoneKey, Money, Platform, errors
from billing_milestones.sync import SyncPlan, load_sides, plan_sync
from billing_milestones.sync._load import _share_equal_values
from billing_milestones.sync._rows import row_of

from ._scenarios import plan_text, scenario
from .fakes import FakeView


class _Listing(FakeView):
    """Lists exactly the milestones given for each container, in that order (repeats included)."""

    def __init__(self, platform: Platform, listings: dict[str, builtins.list[Milestone]]) -> None:
        super().__init__(platform)
        self.listings = listings

    def list(self, container_id: str) -> Iterator[Milestone]:
        yield from self.listings.get(container_id, [])


def _plan_or_error(make: object) -> SyncPlan | str:
    try:
        assert callable(make)
        plan = make()
        assert isinstance(plan, SyncPlan)
        return plan
    except errors.BillingMilestonesError as exc:
        return f"{type(exc).__name__}: {exc}"


def _text(plan: SyncPlan | str) -> str:
    return plan if isinstance(plan, str) else plan_text(plan)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_a_plan_from_load_sides_is_the_plan_from_the_milestones(seed: int) -> None:
    sc = scenario(seed)
    # Read back through pickle: every value a new object, as two listings read them, so sharing has work.
    source, target = pickle.loads(pickle.dumps((sc.source, sc.target)))
    listings: dict[Platform, dict[str, list[Milestone]]] = {}
    listings.setdefault(sc.pair.source, {})[sc.pair.source_container] = source
    listings.setdefault(sc.pair.target, {})[sc.pair.target_container] = target
    views = {platform: _Listing(platform, by_container) for platform, by_container in listings.items()}

    def compact() -> SyncPlan:
        return plan_sync(sc.pair, *load_sides(sc.pair, views), sc.links, policy=sc.policy)

    def full() -> SyncPlan:
        return plan_sync(sc.pair, sc.source, sc.target, sc.links, policy=sc.policy)

    mine, theirs = _plan_or_error(compact), _plan_or_error(full)
    assert _text(mine) == _text(theirs)
    if isinstance(mine, str) or isinstance(theirs, str):
        return
    for a, b in zip(mine.actions, theirs.actions, strict=True):
        for got, want in ((a.source, b.source), (a.target, b.target), (a.desired, b.desired)):
            assert (got is None) == (want is None)
            if got is not None and want is not None:
                assert got.model_dump(exclude={"raw"}) == want.model_dump(exclude={"raw"})


def _listed(ident: str, title: str, amount: str, description: str | None = None) -> Milestone:
    key = MilestoneKey(platform=Platform.AUTOTASK, id=ident, container_id="77")
    return Milestone(key=key, title=title, description=description, amount=Money(amount, "USD"))


def test_a_target_row_takes_the_sources_equal_values_written_alike() -> None:
    source = [row_of(_listed("1", "Kick-off", "10.50", "Phase one"), keep=False)]
    same = pickle.loads(pickle.dumps(_listed("2", "Kick-off", "10.50", "Phase one")))
    target = [row_of(same, keep=False)]
    assert target[0].title is not source[0].title and target[0]._amount is not source[0]._amount
    _share_equal_values(source, target)
    assert target[0].title is source[0].title
    assert target[0].description is source[0].description
    assert target[0]._amount is source[0]._amount  # the amount as the row holds it (here its minor units)
    assert target[0].milestone().model_dump(exclude={"raw"}) == same.model_dump(exclude={"raw"})


def test_an_amount_equal_but_written_otherwise_is_kept_apart() -> None:
    source = [row_of(_listed("1", "A", "10.5"), keep=False)]
    target = [row_of(_listed("2", "B", "10.50"), keep=False)]
    mine = target[0]._amount
    _share_equal_values(source, target)
    amount = target[0].amount
    assert target[0]._amount is mine and amount is not None and amount.amount.as_tuple() == Decimal("10.50").as_tuple()
    assert target[0].title == "B"


def test_load_sides_shares_the_values_of_a_pair_in_step() -> None:
    from billing_milestones.sync import SyncPair

    pair = SyncPair(Platform.AUTOTASK, "77", Platform.AUTOTASK, "78")
    one = _listed("1", "Kick-off", "10.50")
    other = pickle.loads(pickle.dumps(one)).model_copy(
        update={"key": MilestoneKey(platform=Platform.AUTOTASK, id="2", container_id="78")}
    )
    view = _Listing(Platform.AUTOTASK, {"77": [one], "78": [other]})
    for parallel in (False, True):
        source, target = load_sides(pair, view, parallel=parallel)
        assert target[0].title is source[0].title and target[0]._amount is source[0]._amount
