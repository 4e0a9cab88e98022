"""Kantata <-> common Milestone translation: exact money, status rules, and nothing lost silently."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

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
from billing_milestones.kantata.adapter import raw_payload, wire_from_raw
from billing_milestones.model import (
    SYNC_SERVICE_NAME,
    ChangeKind,
    ExternalRef,
    Milestone,
    MilestoneKey,
    MilestoneStatus,
    Platform,
    Trigger,
    TriggerKind,
)
from billing_milestones.money import Money

USD = WorkspaceCurrency("1001", "USD", 2)
JPY = WorkspaceCurrency("1002", "JPY", 0)
KWD = WorkspaceCurrency("1003", "KWD", 3)
TODAY = dt.date(2026, 3, 1)


def wire(**overrides: object) -> BillingMilestone:
    data: dict[str, object] = {
        "id": "70001",
        "title": "Deposit",
        "amount_in_cents": 12345,
        "currency": "USD",
        "billing_type": "fixed_date",
        "date_to_invoice": "2026-04-01",
        "story_id": None,
        "workspace_id": "1001",
        "invoice_id": None,
    }
    data.update(overrides)
    return BillingMilestone.model_validate(data)


def common(**overrides: object) -> Milestone:
    data: dict[str, object] = {
        "title": "Deposit",
        "amount": Money("123.45", "USD"),
        "due": dt.date(2026, 4, 1),
    }
    data.update(overrides)
    return Milestone(**data)


# -- Kantata -> common ---------------------------------------------------------------------------------
def test_amount_uses_the_workspace_base_unit_never_a_hundred() -> None:
    assert to_milestone(wire(), USD).amount == Money("123.45", "USD")
    assert to_milestone(wire(currency="KWD", workspace_id="1003"), KWD).amount == Money("12.345", "KWD")
    assert to_milestone(wire(currency="JPY", workspace_id="1002"), JPY).amount == Money("12345", "JPY")


def test_workspace_with_base_unit_builds_the_currency() -> None:
    ws = Workspace(id="9", currency="KWD", currency_base_unit=1000)
    assert WorkspaceCurrency.from_workspace(ws) == WorkspaceCurrency("9", "KWD", 3)
    no_base = Workspace(id="9", currency="JPY")
    assert WorkspaceCurrency.from_workspace(no_base).exponent == 0


def test_workspace_without_currency_is_a_translation_error() -> None:
    with pytest.raises(TranslationError) as info:
        WorkspaceCurrency.from_workspace(Workspace(id="9"))
    assert info.value.field == "currency"


def test_key_trigger_and_raw() -> None:
    m = to_milestone(wire(), USD, today=TODAY)
    assert m.key == MilestoneKey(platform=Platform.KANTATA, id="70001", container_id="1001")
    assert m.trigger == Trigger.fixed_date()
    assert m.due == dt.date(2026, 4, 1)
    assert m.raw["id"] == "70001" and m.raw["amount_in_cents"] == 12345
    assert m.description is None and m.percentage is None


def test_invoiced_is_billed_and_locked() -> None:
    m = to_milestone(wire(invoice_id="30001"), USD, today=TODAY)
    assert (m.status, m.locked) == (MilestoneStatus.BILLED, True)


def test_date_passed_is_ready_to_bill_only_when_today_is_given() -> None:
    due_today = wire(date_to_invoice="2026-03-01")
    assert to_milestone(due_today, USD, today=TODAY).status is MilestoneStatus.READY_TO_BILL
    assert to_milestone(due_today, USD).status is MilestoneStatus.PLANNED
    assert to_milestone(wire(), USD, today=TODAY).status is MilestoneStatus.PLANNED


def test_completed_story_makes_upon_completion_ready() -> None:
    w = wire(billing_type="upon_completion", story_id="5001", date_to_invoice=None)
    m = to_milestone(w, USD, today=TODAY)
    assert m.trigger == Trigger.on_completion("5001") and m.status is MilestoneStatus.PLANNED
    assert to_milestone(w, USD, story_states={"5001": "completed"}).status is MilestoneStatus.READY_TO_BILL
    w.attach(story=Story(id="5001", state="completed"))
    assert to_milestone(w, USD).status is MilestoneStatus.READY_TO_BILL


def test_upon_completion_without_story_is_refused() -> None:
    with pytest.raises(TranslationError) as info:
        to_milestone(wire(billing_type="upon_completion", story_id=None), USD)
    assert info.value.field == "story_id"


def test_unknown_billing_type_is_refused_not_defaulted() -> None:
    with pytest.raises(TranslationError) as info:
        to_milestone(wire(billing_type="weekly"), USD)
    assert info.value.field == "billing_type"


def test_missing_billing_type_is_defaulted_and_recorded() -> None:
    m = to_milestone(wire(billing_type=None), USD)
    assert m.trigger.kind is TriggerKind.FIXED_DATE
    assert [c.kind for c in m.changes] == [ChangeKind.DEFAULTED]


def test_currency_other_than_the_workspace_is_refused() -> None:
    with pytest.raises(TranslationError) as info:
        to_milestone(wire(currency="EUR"), USD)
    assert info.value.field == "currency"


def test_external_references_become_external_refs() -> None:
    w = wire(external_reference_ids=["1", "2"])
    w.attach(
        external_references=[
            ExternalReference(
                id="1", service_name=SYNC_SERVICE_NAME, service_model="billing_milestone", service_model_ref="key-1"
            ),
            ExternalReference(id="2", service_name="quickbooks", service_model="invoice_line", service_model_ref="77"),
        ]
    )
    m = to_milestone(w, USD)
    assert m.sync_key == "key-1"
    assert ExternalRef(service="quickbooks", ref="77", model="invoice_line") in m.external_refs
    assert wire_from_raw(m.raw).external_references == w.external_references


# -- common -> Kantata ---------------------------------------------------------------------------------
def test_create_body_carries_the_sync_key_as_an_external_reference() -> None:
    body, changes = to_create_body(common().with_sync_key("sync-123"), USD)
    assert changes == ()
    assert body.to_wire() == {
        "title": "Deposit",
        "amount_in_cents": 12345,
        "workspace_id": 1001,
        "date_to_invoice": "2026-04-01",
        "billing_type": "fixed_date",
        "external_reference": {
            "service_name": "billing-milestones",
            "service_model": "billing_milestone",
            "service_model_ref": "sync-123",
            "status": "successful",
        },
    }


def test_on_completion_becomes_upon_completion_with_story() -> None:
    body, _ = to_create_body(common(trigger=Trigger.on_completion("5001"), due=None), USD)
    assert body.to_wire()["billing_type"] == "upon_completion"
    assert body.to_wire()["story_id"] == 5001


def test_percentage_without_amount_is_refused() -> None:
    with pytest.raises(TranslationError) as info:
        to_create_body(common(amount=None, percentage=Decimal("30")), USD)
    assert info.value.field == "amount"


def test_description_is_refused_unless_dropping_is_allowed() -> None:
    m = common(description="Paid on signature")
    with pytest.raises(TranslationError) as info:
        to_create_body(m, USD)
    assert info.value.field == "description"
    body, changes = to_create_body(m, USD, allow_drop=True)
    assert "description" not in body.to_wire()
    assert [(c.field, c.kind, c.before) for c in changes] == [("description", ChangeKind.DROPPED, "Paid on signature")]


def test_other_currency_is_refused() -> None:
    with pytest.raises(TranslationError) as info:
        to_create_body(common(amount=Money("10", "EUR")), USD)
    assert info.value.field == "amount.currency"


def test_on_stage_trigger_is_refused() -> None:
    with pytest.raises(TranslationError) as info:
        to_create_body(common(trigger=Trigger.on_stage("stage-9")), USD)
    assert info.value.field == "trigger"


def test_fraction_of_a_subunit_is_refused() -> None:
    with pytest.raises(TranslationError) as info:
        to_create_body(common(amount=Money("1.5", "JPY")), JPY)
    assert info.value.field == "amount"


def test_billed_milestone_cannot_be_created_as_billed() -> None:
    with pytest.raises(TranslationError) as info:
        to_create_body(common(status=MilestoneStatus.BILLED, locked=True), USD)
    assert info.value.field == "status"


def test_update_body_holds_only_changed_fields() -> None:
    current = wire()
    m = to_milestone(current, USD)
    body, _ = to_update_body(m.model_copy(update={"title": "Deposit (revised)"}), current, USD)
    assert body.to_wire() == {"title": "Deposit (revised)"}
    unchanged, _ = to_update_body(m, current, USD)
    assert unchanged.is_empty


def test_update_body_clears_the_date_explicitly() -> None:
    current = wire()
    m = to_milestone(current, USD).model_copy(update={"due": None})
    body, _ = to_update_body(m, current, USD)
    assert body.to_wire() == {"date_to_invoice": None}


def test_update_sends_the_sync_key_only_when_it_differs() -> None:
    current = wire(external_reference_ids=["1"])
    current.attach(
        external_references=[
            ExternalReference(id="1", service_name=SYNC_SERVICE_NAME, service_model="x", service_model_ref="k1")
        ]
    )
    m = to_milestone(current, USD)
    same, _ = to_update_body(m, current, USD)
    assert same.is_empty
    other, _ = to_update_body(m.with_sync_key("k2"), current, USD)
    assert other.to_wire()["external_reference"]["service_model_ref"] == "k2"


def test_update_cannot_move_a_milestone_to_another_workspace() -> None:
    current = wire()
    moved = to_milestone(current, USD).model_copy(
        update={"key": MilestoneKey(platform=Platform.KANTATA, id="70001", container_id="999")}
    )
    with pytest.raises(TranslationError) as info:
        to_update_body(moved, current, USD)
    assert info.value.field == "key.container_id"


def test_fixed_date_story_link_is_recorded_and_left_alone_on_update() -> None:
    current = wire(story_id="5001")
    m = to_milestone(current, USD)
    assert [(c.field, c.kind) for c in m.changes] == [("story_id", ChangeKind.DROPPED)]
    body, _ = to_update_body(m, current, USD)
    assert body.is_empty


# -- the round trip ------------------------------------------------------------------------------------
CURRENCIES = st.sampled_from([(JPY, 1), (USD, 100), (KWD, 1000)])


@given(
    currency=CURRENCIES,
    cents=st.integers(min_value=-(10**12), max_value=10**12),
    title=st.text(min_size=1, max_size=40).filter(str.strip),  # a blank title is refused on write
    due=st.none() | st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1)),
    story=st.none() | st.integers(min_value=1, max_value=10**9).map(str),
    sync_key=st.none() | st.text(alphabet="abcdef0123456789-", min_size=1, max_size=36),
)
def test_round_trip_kantata_common_kantata_is_identity(
    currency: tuple[WorkspaceCurrency, int],
    cents: int,
    title: str,
    due: dt.date | None,
    story: str | None,
    sync_key: str | None,
) -> None:
    ws, base_unit = currency
    original = BillingMilestone.model_validate(
        {
            "id": "1",
            "title": title,
            "amount_in_cents": cents,
            "currency": ws.currency,
            "billing_type": "upon_completion" if story else "fixed_date",
            "date_to_invoice": due.isoformat() if due else None,
            "story_id": story,
            "workspace_id": ws.workspace_id,
            "external_reference_ids": ["9"] if sync_key else [],
        }
    )
    refs = (
        [
            ExternalReference(
                id="9", service_name=SYNC_SERVICE_NAME, service_model="billing_milestone", service_model_ref=sync_key
            )
        ]
        if sync_key
        else []
    )
    original.attach(external_references=refs)
    workspace = Workspace(id=ws.workspace_id, currency=ws.currency, currency_base_unit=base_unit)

    m = to_milestone(original, workspace)
    assert m.amount is not None and m.amount.to_minor(exponent=ws.exponent) == cents
    body, changes = to_create_body(m, workspace)
    assert changes == ()
    sent = body.to_wire()
    assert sent["title"] == original.title
    assert sent["amount_in_cents"] == original.amount_in_cents
    assert str(sent["workspace_id"]) == original.workspace_id
    assert sent.get("date_to_invoice") == (due.isoformat() if due else None)
    assert sent["billing_type"] == original.billing_type
    assert (str(sent["story_id"]) if "story_id" in sent else None) == original.story_id
    assert (sent["external_reference"]["service_model_ref"] if sync_key else None) == sync_key
    assert "external_reference" in sent if sync_key else "external_reference" not in sent
    # and nothing to update against itself
    assert to_update_body(m, original, workspace)[0].is_empty


@given(currency=CURRENCIES, cents=st.integers(min_value=-(10**15), max_value=10**15))
def test_round_trip_common_kantata_common_keeps_the_amount(currency: tuple[WorkspaceCurrency, int], cents: int) -> None:
    ws, _ = currency
    amount = Money.from_minor(cents, ws.currency, exponent=ws.exponent)
    body, _ = to_create_body(common(amount=amount), ws)
    back = BillingMilestone.model_validate(
        {**body.to_wire(), "id": "1", "workspace_id": ws.workspace_id, "currency": ws.currency}
    )
    assert to_milestone(back, ws).amount == amount


def test_raw_payload_round_trips_without_side_loads() -> None:
    w = wire()
    assert wire_from_raw(raw_payload(w)) == w
    assert "external_references" not in raw_payload(w)
