"""Kantata translation rules that mutation testing showed no test stated (``make mutate``); one test per rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from billing_milestones.errors import TranslationError
from billing_milestones.kantata import (
    BillingMilestone,
    ExternalReference,
    Story,
    Workspace,
    WorkspaceCurrency,
    to_create_body,
    to_milestone,
    to_update_body,
)
from billing_milestones.model import (
    ChangeKind,
    ExternalRef,
    FieldChange,
    Milestone,
    MilestoneKey,
    MilestoneStatus,
    Platform,
    Trigger,
)
from billing_milestones.money import Money

USD = WorkspaceCurrency("1001", "USD", 2)
MILLS = WorkspaceCurrency("1001", "USD", 3)  # a workspace whose currency_base_unit is 1000 for USD
KEY = MilestoneKey(platform=Platform.KANTATA, id="70001", container_id="1001")


def wire(**overrides: object) -> BillingMilestone:
    data: dict[str, object] = {
        "id": "70001",
        "title": "Deposit",
        "amount_in_cents": 12345,
        "currency": "USD",
        "billing_type": "fixed_date",
        "date_to_invoice": "2026-04-01",
        "workspace_id": "1001",
    }
    data.update(overrides)
    return BillingMilestone.model_validate(data)


def common(**overrides: object) -> Milestone:
    data: dict[str, object] = {"title": "Deposit", "amount": Money("123.45", "USD"), "due": dt.date(2026, 4, 1)}
    data.update(overrides)
    return Milestone(**data)


# (what is refused, exact message, field, source)
REFUSALS: list[tuple[Callable[[], object], str, str, object]] = [
    (
        lambda: WorkspaceCurrency.from_workspace(Workspace(id="9")),
        "workspace 9 has no currency; Kantata shows it only to tokens with financial access",
        "currency",
        "9",
    ),
    (
        lambda: WorkspaceCurrency.from_workspace(Workspace(id="9", currency="USD", currency_base_unit=50)),
        "workspace 9: currency_base_unit: 50 is not a power of ten",
        "currency_base_unit",
        "9",
    ),
    (
        lambda: WorkspaceCurrency.from_workspace(Workspace(id="9", currency="XAU")),
        "workspace 9: currency: XAU has no minor unit in ISO 4217 (e.g. a metal or fund); pass exponent= explicitly",
        "currency",
        "9",
    ),
    (
        lambda: to_milestone(wire(billing_type="upon_completion"), USD),
        "billing milestone 70001 is upon_completion but has no story_id",
        "story_id",
        "70001",
    ),
    (
        lambda: to_milestone(wire(billing_type="weekly"), USD),
        "billing milestone 70001 has unknown billing_type 'weekly'",
        "billing_type",
        "70001",
    ),
    (
        lambda: to_milestone(wire(currency="EUR"), USD),
        "billing milestone 70001 is in EUR but workspace 1001 is in USD; "
        "the subunit size is only known for the workspace currency",
        "currency",
        "70001",
    ),
    (
        lambda: to_milestone(wire(), WorkspaceCurrency("1001", "USD", 9)),
        "billing milestone 70001: exponent: expected an int 0..8, got 9",
        "amount",
        "70001",
    ),
    (
        lambda: to_create_body(common(amount=None, percentage=30, key=KEY), USD),
        "amount: milestone 'Deposit' has only a percentage (30%); Kantata needs amount_in_cents, so resolve the "
        "percentage against the container total first",
        "amount",
        KEY,
    ),
    (
        lambda: to_create_body(common(amount=Money("1", "EUR")), USD),
        "amount.currency: EUR differs from workspace 1001's USD; Kantata milestones are in the workspace currency "
        "(convert first)",
        "amount.currency",
        "Deposit",
    ),
    (
        lambda: to_create_body(common(amount=Money("1.001", "USD")), USD),
        "amount: amount: 1.001 USD has a fraction of a minor unit (exponent 2); pass rounding= to round it",
        "amount",
        "Deposit",
    ),
    (
        lambda: to_create_body(common(trigger=Trigger.on_stage("S1")), USD),
        "trigger: ON_STAGE(S1) has no Kantata equivalent; map the stage to a story (ON_COMPLETION) or a date "
        "(FIXED_DATE) with a TriggerMap",
        "trigger",
        "Deposit",
    ),
    (
        lambda: to_create_body(common(is_initial_payment=True), USD),
        "is_initial_payment: Kantata has no initial-payment flag; pass allow_drop=True to drop it",
        "is_initial_payment",
        "Deposit",
    ),
    (
        lambda: to_create_body(common(status=MilestoneStatus.BILLED, locked=True), USD),
        "status: a Kantata milestone is billed only by putting it on an invoice, which this API call cannot do; "
        "pass allow_drop=True to drop it",
        "status",
        "Deposit",
    ),
    (
        lambda: to_update_body(common(description="Signed"), wire(), USD),
        "description: Kantata billing milestones have no description field; pass allow_drop=True to drop it",
        "description",
        "Deposit",
    ),
    (
        lambda: to_update_body(common(), wire(workspace_id="1002"), USD),
        "workspace: milestone 70001 is in workspace 1002, not 1001",
        "workspace_id",
        "70001",
    ),
    (
        lambda: to_update_body(common(key=KEY.model_copy(update={"container_id": "1002"})), wire(), USD),
        "key.container_id: Kantata cannot move milestone 70001 from workspace 1001 to 1002 "
        "(workspace_id is not updatable)",
        "key.container_id",
        KEY.model_copy(update={"container_id": "1002"}),
    ),
]


@pytest.mark.parametrize(("refused", "message", "field", "source"), REFUSALS)
def test_every_refusal_names_the_field_and_the_milestone_or_workspace_it_came_from(
    refused: Callable[[], object], message: str, field: str, source: object
) -> None:
    with pytest.raises(TranslationError) as info:
        refused()
    assert (info.value.message, info.value.field, info.value.source) == (message, field, source)


def test_amounts_use_the_workspace_exponent_both_ways_not_iso() -> None:
    assert to_milestone(wire(amount_in_cents=12345), MILLS).amount == Money("12.345", "USD")
    body, _ = to_create_body(common(amount=Money("12.345", "USD")), MILLS)
    assert body.amount_in_cents == 12345


def test_what_an_allowed_drop_loses_is_recorded_field_by_field() -> None:
    billed = common(description="Signed", is_initial_payment=True, status=MilestoneStatus.BILLED, locked=True)
    _, changes = to_create_body(billed, USD, allow_drop=True)
    assert changes == (
        FieldChange(
            field="description",
            kind=ChangeKind.DROPPED,
            before="Signed",
            reason="Kantata billing milestones have no description field",
        ),
        FieldChange(
            field="is_initial_payment",
            kind=ChangeKind.DROPPED,
            before=True,
            reason="Kantata has no initial-payment flag",
        ),
        FieldChange(
            field="status",
            kind=ChangeKind.DROPPED,
            before="billed",
            reason="a Kantata milestone is billed only by putting it on an invoice, which this API call cannot do",
        ),
    )
    _, update_changes = to_update_body(billed, wire(), USD, allow_drop=True)
    assert update_changes == changes


def test_a_guessed_billing_type_and_a_dropped_story_link_are_recorded_exactly() -> None:
    assert to_milestone(wire(billing_type=None), USD).changes == (
        FieldChange(
            field="trigger",
            kind=ChangeKind.DEFAULTED,
            after="fixed_date",
            reason="billing_type was absent; Kantata's default is taken to be fixed_date [U]",
        ),
    )
    assert to_milestone(wire(story_id="501"), USD).changes == (
        FieldChange(
            field="story_id",
            kind=ChangeKind.DROPPED,
            before="501",
            reason="a fixed-date milestone's linked story has no place in the common model (kept in raw)",
        ),
    )


def test_only_an_upon_completion_milestone_is_ready_by_its_story() -> None:
    done = {"501": "completed"}
    fixed = wire(story_id="501", date_to_invoice=None)
    assert to_milestone(fixed, USD, story_states=done).status is MilestoneStatus.PLANNED
    side_loaded = wire(billing_type="upon_completion", story_id="501", date_to_invoice=None)
    side_loaded.attach(story=Story(id="501", state="completed"))
    assert to_milestone(side_loaded, USD).status is MilestoneStatus.READY_TO_BILL
    other_story = wire(billing_type="upon_completion", story_id="501", date_to_invoice=None)
    other_story.attach(story=Story(id="502", state="completed"))
    assert to_milestone(other_story, USD).status is MilestoneStatus.PLANNED


def test_external_refs_keep_their_status_and_skip_references_without_service_or_ref() -> None:
    w = wire(external_reference_ids=["1", "2", "3"])
    w.attach(
        external_references=[
            ExternalReference(
                id="1", service_name="quickbooks", service_model="line", service_model_ref="77", status="successful"
            ),
            ExternalReference(id="2", service_name="quickbooks", service_model="line", service_model_ref=""),
            ExternalReference(id="3", service_name="", service_model="line", service_model_ref="78"),
        ]
    )
    assert to_milestone(w, USD).external_refs == (
        ExternalRef(service="quickbooks", ref="77", model="line", status="successful"),
    )


def test_switching_between_a_date_and_a_story_trigger_sends_the_type_and_the_story() -> None:
    on_story = common(trigger=Trigger.on_completion("501"))
    body, _ = to_update_body(on_story, wire(), USD)
    assert body.to_wire() == {"billing_type": "upon_completion", "story_id": 501}
    body, _ = to_update_body(common(), wire(billing_type="upon_completion", story_id="501"), USD)
    assert body.to_wire() == {"billing_type": "fixed_date"}
    body, _ = to_update_body(on_story, wire(billing_type="upon_completion", story_id="502"), USD)
    assert body.to_wire() == {"story_id": 501}
    body, _ = to_update_body(common(), wire(billing_type=None), USD)
    assert body.to_wire() == {}
