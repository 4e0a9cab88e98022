"""The common view ``client.milestones`` over crm.com order drafts, sync and async, against the sandbox."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_milestones._view import AsyncMilestoneView, MilestoneView
from billing_milestones.crmcom import AsyncCrmComClient, CrmComClient, OrderDraft, OrderItem
from billing_milestones.errors import BadRequestError, TranslationError, ValidationError
from billing_milestones.model import ChangeKind, Milestone, MilestoneKey, Platform, Trigger
from billing_milestones.money import Money, sum_money
from billing_milestones.sandbox.crmcom import CrmComSandbox, DemoSeed


def on_stage(stage: str, *, pct: str | None = None, amount: Money | None = None, title: str = "m") -> Milestone:
    return Milestone(
        title=title, percentage=Decimal(pct) if pct else None, amount=amount, trigger=Trigger.on_stage(stage)
    )


def estimates_sent(sandbox: CrmComSandbox) -> int:
    return sandbox.count_requests("POST", "/estimates/orders")


def test_views_implement_the_common_protocol(client: CrmComClient, aclient: AsyncCrmComClient) -> None:
    assert isinstance(client.milestones, MilestoneView)
    assert isinstance(aclient.milestones, AsyncMilestoneView)
    assert client.milestones.platform is Platform.CRMCOM


def test_open_and_list_the_queue_defaults(client: CrmComClient, seed: DemoSeed, make_draft: Any) -> None:
    draft_id = client.milestones.open_draft(make_draft("EUR", quantity=2))
    assert client.milestones.draft(draft_id).estimation_id == draft_id
    plan = list(client.milestones.stream(draft_id))  # stage order (list sorts by title)
    stages = seed.stages["standard"]
    assert [m.title for m in plan] == ["Deposit", "In Progress", "Completed"]
    assert [m.key for m in plan] == [
        MilestoneKey(platform=Platform.CRMCOM, id=f"{draft_id}:{s}", container_id=draft_id) for s in stages[:3]
    ]
    assert [m.trigger.ref for m in plan] == stages[:3]
    assert [m.percentage for m in plan] == [Decimal(30), Decimal(30), Decimal(40)]
    assert all(m.changes[0].kind is ChangeKind.DERIVED and m.changes[0].field == "percentage" for m in plan)
    total = client.milestones.last_estimate(draft_id).total
    assert total == Decimal("2938.25")
    assert sum_money([m.amount for m in plan if m.amount], "EUR") == Money(total, "EUR")


def test_unknown_container(client: CrmComClient) -> None:
    with pytest.raises(ValidationError, match="open_draft"):
        list(client.milestones.list("nope"))


def test_create_update_delete_replace(
    client: CrmComClient, seed: DemoSeed, sandbox: CrmComSandbox, make_draft: Any
) -> None:
    deposit, progress, completed, cancelled = seed.stages["standard"]
    draft_id = client.milestones.open_draft(make_draft("USD", quantity=10, milestones=[]))
    assert list(client.milestones.list(draft_id)) == []  # an explicit empty set: no milestones

    created = client.milestones.create(
        draft_id, [on_stage(deposit, pct="25", title="Deposit"), on_stage(completed, amount=Money("50", "USD"))]
    )
    assert [(m.trigger.ref, m.amount, m.percentage) for m in created] == [
        (deposit, Money("49.98", "USD"), Decimal(25)),
        (completed, Money("50.00", "USD"), None),
    ]
    assert created[0].title == "Deposit"  # titles come from the stage names
    assert created[1].title == "Completed"

    before = estimates_sent(sandbox)
    with pytest.raises(ValidationError, match="already has a milestone"):
        client.milestones.create(draft_id, [on_stage(deposit, pct="5")])
    with pytest.raises(ValidationError, match="above the order total"):
        client.milestones.create(draft_id, [on_stage(progress, amount=Money("100.00", "USD"))])
    with pytest.raises(TranslationError, match="fixed_date"):
        client.milestones.create(draft_id, [Milestone(title="x", amount=Money("1.00", "USD"))])
    assert estimates_sent(sandbox) == before  # none of these reached the server

    updated = client.milestones.update(created[0].model_copy(update={"percentage": Decimal("30")}))
    assert updated.key == created[0].key and updated.amount == Money("59.97", "USD")
    assert updated.percentage == Decimal(30)
    assert [(c.field, c.kind) for c in updated.changes] == [("amount", ChangeKind.DROPPED)]  # the edited side won
    edited = client.milestones.update(updated.model_copy(update={"amount": Money("60.00", "USD")}))
    assert edited.amount == Money("60.00", "USD") and edited.percentage is None  # now a fixed amount
    # neither side given as an edit and both present: prefer='amount' sends the exact amount
    both = created[1].model_copy(update={"percentage": Decimal("10"), "amount": Money("40.00", "USD")})
    updated = client.milestones.update(both)
    assert updated.percentage is None and updated.amount == Money("40.00", "USD")
    assert [(c.field, c.kind) for c in updated.changes] == [("percentage", ChangeKind.DROPPED)]
    client.milestones.update(edited.model_copy(update={"amount": None, "percentage": Decimal(25)}))

    client.milestones.delete(created[0].key)  # type: ignore[arg-type]
    assert [m.trigger.ref for m in client.milestones.list(draft_id)] == [completed]
    with pytest.raises(ValidationError, match="no milestone for stage"):
        client.milestones.delete(created[0].key)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="no milestone for stage"):
        client.milestones.update(created[0])

    # the server knows which stages carry milestone settings; the client cannot
    with pytest.raises(BadRequestError) as info:
        client.milestones.create(draft_id, [on_stage(cancelled, pct="1")])
    assert "not a milestone stage" in info.value.messages[0]

    whole = [on_stage(s, pct=p) for s, p in ((deposit, "20"), (progress, "30"), (completed, "50"))]
    first = client.milestones.replace(draft_id, whole)
    again = client.milestones.replace(draft_id, whole)  # idempotent: one milestone per stage, same estimation
    assert first == again and [m.key for m in first] == [m.key for m in again]
    assert sum_money([m.amount for m in first if m.amount], "USD") == Money("199.90", "USD")
    assert list(sandbox.estimations) == [draft_id]


def test_a_moved_stage_is_refused(client: CrmComClient, seed: DemoSeed, make_draft: Any) -> None:
    draft_id = client.milestones.open_draft(make_draft("EUR"))
    first = next(iter(client.milestones.list(draft_id)))
    moved = first.model_copy(update={"trigger": Trigger.on_stage(seed.stages["standard"][1])})
    with pytest.raises(ValidationError, match="cannot move stage"):
        client.milestones.update(moved)
    with pytest.raises(ValidationError, match="needs its key"):
        client.milestones.update(first.model_copy(update={"key": None}))


def test_create_on_queue_defaults_extends_them(client: CrmComClient, seed: DemoSeed, make_draft: Any) -> None:
    draft_id = client.milestones.open_draft(make_draft("JPY", queue="standard"))
    deposit = seed.stages["standard"][0]
    client.milestones.delete(MilestoneKey(platform=Platform.CRMCOM, id=f"{draft_id}:{deposit}", container_id=draft_id))
    remaining = list(client.milestones.stream(draft_id))  # stage order (list sorts by title)
    assert [m.percentage for m in remaining] == [Decimal(30), Decimal(40)]
    assert all(m.changes == () for m in remaining)  # now explicit percentages, not the queue's
    (created,) = client.milestones.create(draft_id, [on_stage(deposit, pct="30")])
    # 13579 JPY (incl. 10% tax): In Progress 30% = 4073.7 -> 4074, Completed 40% = 5431.6 -> 5432,
    # and Deposit, now last in the set, absorbs the rounding: 13579 - 4074 - 5432 = 4073
    assert created.amount == Money(4073, "JPY")
    assert sum_money([m.amount for m in client.milestones.list(draft_id) if m.amount], "JPY") == Money(13579, "JPY")


async def test_async_view(aclient: AsyncCrmComClient, seed: DemoSeed, make_draft: Any) -> None:
    deposit, progress, completed, _ = seed.stages["standard"]
    draft_id = await aclient.milestones.open_draft(make_draft("KWD", quantity=3))
    plan = [m async for m in aclient.milestones.stream(draft_id)]  # stage order (list sorts by title)
    assert sum_money([m.amount for m in plan if m.amount], "KWD") == Money("30.015", "KWD")
    await aclient.milestones.delete(plan[1].key)  # type: ignore[arg-type]
    (created,) = await aclient.milestones.create(draft_id, [on_stage(progress, amount=Money("1.5", "KWD"))])
    assert created.amount == Money("1.500", "KWD") and created.percentage is None
    updated = await aclient.milestones.update(created.model_copy(update={"amount": Money("2.25", "KWD")}))
    assert updated.amount == Money("2.250", "KWD")
    replaced = await aclient.milestones.replace(draft_id, [on_stage(completed, pct="100")])
    assert [m.amount for m in replaced] == [Money("30.015", "KWD")]
    assert aclient.milestones.draft(draft_id).milestones is not None
    aclient.milestones.close_draft(draft_id)
    with pytest.raises(ValidationError, match="open_draft"):
        await aclient.milestones.update(replaced[0])
    fresh = await aclient.milestones.open_draft(make_draft("KWD"))
    with pytest.raises(ValidationError, match="already has a milestone"):  # the queue default covers Deposit
        await aclient.milestones.create(fresh, [on_stage(deposit, pct="1")])


@st.composite
def splits(draw: st.DrawFn) -> tuple[str, int, list[Decimal]]:
    currency = draw(st.sampled_from(["JPY", "USD", "KWD"]))
    minor = draw(st.integers(min_value=1, max_value=10**11))
    whole = 10_000
    n = draw(st.integers(min_value=1, max_value=6))
    cuts = sorted(draw(st.lists(st.integers(min_value=0, max_value=whole), min_size=n - 1, max_size=n - 1)))
    bounds = [0, *cuts, whole]
    return currency, minor, [Decimal(b - a).scaleb(-2) for a, b in itertools.pairwise(bounds)]


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(splits())
def test_percentage_only_plans_sum_exactly_to_the_order_total(case: tuple[str, int, list[Decimal]]) -> None:
    currency, minor, pcts = case
    total = Money.from_minor(minor, currency)
    sandbox = CrmComSandbox()
    seed = sandbox.seed_demo()
    product = sandbox.add_product("Exact", total.amount, currency)
    queue = sandbox.add_queue("Split", [(f"S{i}", p) for i, p in enumerate(pcts)])
    draft = OrderDraft(
        account_id=seed.account_id,
        supply_method="PICK_UP",
        delivery_method="COURIER_SERVICE",
        payment_method_type="CASH",
        items=[OrderItem(id=product.id)],
        queue_id=queue.id,
    )
    with CrmComClient(seed.secret_key, http_client=sandbox.http_client()) as client:
        draft_id = client.milestones.open_draft(draft)
        defaults = list(client.milestones.list(draft_id))  # queue percentages, computed by the server
        written = client.milestones.replace(
            draft_id, [on_stage(s.id, pct=str(p)) for s, p in zip(queue.stages, pcts, strict=True)]
        )
    for plan in (defaults, written):
        amounts = [m.amount for m in plan]
        assert all(a is not None and a.currency == currency and a.is_whole_minor() for a in amounts)
        assert sum_money([a for a in amounts if a], currency) == total
        assert [m.percentage for m in plan] == pcts
