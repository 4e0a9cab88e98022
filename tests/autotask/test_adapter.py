"""The pure ContractMilestone <-> Milestone translation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_milestones.autotask import adapter
from billing_milestones.autotask.wire import ContractMilestone
from billing_milestones.errors import TranslationError
from billing_milestones.model import ChangeKind, Milestone, MilestoneKey, MilestoneStatus, Platform, Trigger
from billing_milestones.money import Money

PICKLIST = {1: "Not Ready to Bill", 2: "Ready to Bill", 3: "Billed"}


def record(**over: Any) -> ContractMilestone:
    base: dict[str, Any] = {
        "id": 11,
        "contractID": 7,
        "title": "Design",
        "description": "Phase one [bm:sync-123]",
        "amount": Decimal("1500.5"),
        "dateDue": "2026-03-31T00:00:00",
        "status": 2,
        "isInitialPayment": False,
    }
    base.update(over)
    return ContractMilestone.model_validate(base)


def test_to_milestone_maps_every_field() -> None:
    m = adapter.to_milestone(record(), picklist=PICKLIST, currency="USD")
    assert m.key == MilestoneKey(platform=Platform.AUTOTASK, id="11", container_id="7")
    assert m.title == "Design" and m.description == "Phase one"
    assert m.amount == Money("1500.50", "USD") and str(m.amount.amount) == "1500.50"
    assert m.due == dt.date(2026, 3, 31) and m.trigger == Trigger.fixed_date()
    assert m.status is MilestoneStatus.READY_TO_BILL and not m.locked
    assert m.sync_key == "sync-123"
    assert m.raw["contractID"] == 7


@pytest.mark.parametrize(
    ("value", "status"), [(1, MilestoneStatus.PLANNED), (2, MilestoneStatus.READY_TO_BILL), (3, MilestoneStatus.BILLED)]
)
def test_status_by_label(value: int, status: MilestoneStatus) -> None:
    m = adapter.to_milestone(record(status=value, isInitialPayment=True), picklist=PICKLIST, currency="USD")
    assert m.status is status and m.locked is (status is MilestoneStatus.BILLED)


def test_status_follows_the_label_not_the_int() -> None:
    swapped = {7: "Billed", 8: "Ready to Bill", 9: "Not Ready to Bill"}
    m = adapter.to_milestone(record(status=7), picklist=swapped, currency="USD")
    assert m.status is MilestoneStatus.BILLED and m.locked


def test_unknown_label_raises() -> None:
    with pytest.raises(TranslationError, match="Invoiced"):
        adapter.to_milestone(record(status=4), picklist={**PICKLIST, 4: "Invoiced"}, currency="USD")
    with pytest.raises(TranslationError, match="picklist"):
        adapter.to_milestone(record(status=9), picklist=PICKLIST, currency="USD")


def test_amount_exactness_per_currency() -> None:
    assert adapter.to_milestone(record(amount=Decimal(1500)), picklist=PICKLIST, currency="JPY").amount == Money(
        "1500", "JPY"
    )
    kwd = adapter.to_milestone(record(amount=Decimal("1.125")), picklist=PICKLIST, currency="KWD").amount
    assert kwd == Money("1.125", "KWD")
    with pytest.raises(TranslationError, match="minor unit"):
        adapter.to_milestone(record(amount=Decimal("1.125")), picklist=PICKLIST, currency="USD")
    with pytest.raises(TranslationError, match="minor unit"):
        adapter.to_milestone(record(amount=Decimal("10.5")), picklist=PICKLIST, currency="JPY")


def test_description_marker_parsing() -> None:
    assert adapter.split_description("[bm:abc]") == (None, "abc")
    assert adapter.split_description("text [bm:abc]  ") == ("text", "abc")
    assert adapter.split_description("text[bm:abc]") == ("text[bm:abc]", None)  # not a separate marker
    assert adapter.split_description("[bm:abc] then text") == ("[bm:abc] then text", None)
    assert adapter.split_description(None) == (None, None)
    assert adapter.split_description("") == (None, None)


def milestone(**over: Any) -> Milestone:
    base: dict[str, Any] = {
        "title": "Design",
        "description": "Phase one",
        "amount": Money("1500.5", "USD"),
        "due": dt.date(2026, 3, 31),
        "status": MilestoneStatus.READY_TO_BILL,
    }
    base.update(over)
    return Milestone(**base)


def test_to_wire_fields() -> None:
    out = adapter.to_wire_fields(milestone().with_sync_key("k1"), picklist=PICKLIST, currency="usd")
    assert out.fields == {
        "title": "Design",
        "description": "Phase one [bm:k1]",
        "amount": Decimal("1500.50"),
        "dateDue": dt.date(2026, 3, 31),
        "status": 2,
        "isInitialPayment": False,
    }
    assert out.changes == ()
    back = adapter.to_milestone(
        ContractMilestone.model_validate({**out.fields, "id": 1, "contractID": 7}), picklist=PICKLIST, currency="USD"
    )
    assert back.business_fields() == milestone().business_fields() and back.sync_key == "k1"


def test_long_text_raises_or_truncates() -> None:
    long_title = "T" * 60
    with pytest.raises(TranslationError, match="title") as info:
        adapter.to_wire_fields(milestone(title=long_title), picklist=PICKLIST, currency="USD")
    assert info.value.field == "title"
    out = adapter.to_wire_fields(milestone(title=long_title), picklist=PICKLIST, currency="USD", truncate=True)
    assert out.fields["title"] == "T" * 50
    assert out.changes[0].kind is ChangeKind.TRUNCATED and out.changes[0].field == "title"


def test_marker_counts_toward_the_description_limit() -> None:
    text = "d" * 245  # fits alone, not with " [bm:k1]" (8 more)
    adapter.to_wire_fields(milestone(description=text), picklist=PICKLIST, currency="USD")
    with pytest.raises(TranslationError, match="sync-key marker"):
        adapter.to_wire_fields(milestone(description=text).with_sync_key("k1"), picklist=PICKLIST, currency="USD")
    out = adapter.to_wire_fields(
        milestone(description=text).with_sync_key("k1"), picklist=PICKLIST, currency="USD", truncate=True
    )
    assert len(out.fields["description"]) == 250 and out.fields["description"].endswith(" [bm:k1]")
    assert adapter.split_description(out.fields["description"]) == ("d" * 242, "k1")
    assert [c.kind for c in out.changes] == [ChangeKind.TRUNCATED]
    with pytest.raises(TranslationError, match="description"):
        adapter.to_wire_fields(milestone(description="x" * 251), picklist=PICKLIST, currency="USD")


def test_bad_sync_key_refused() -> None:
    with pytest.raises(TranslationError, match="sync key"):
        adapter.to_wire_fields(milestone().with_sync_key("has space"), picklist=PICKLIST, currency="USD")


def test_triggers_and_due_dates() -> None:
    on_story = milestone(trigger=Trigger.on_completion("story-9"), due=None)
    with pytest.raises(TranslationError, match=r"on_completion\(story-9\)") as info:
        adapter.to_wire_fields(on_story, picklist=PICKLIST, currency="USD")
    assert info.value.field == "trigger"
    with pytest.raises(TranslationError, match="on_stage"):
        adapter.to_wire_fields(milestone(trigger=Trigger.on_stage("s1")), picklist=PICKLIST, currency="USD")
    out = adapter.to_wire_fields(on_story, picklist=PICKLIST, currency="USD", fallback_due=dt.date(2026, 9, 1))
    assert out.fields["dateDue"] == dt.date(2026, 9, 1)
    assert [(c.field, c.kind) for c in out.changes] == [("trigger", ChangeKind.DROPPED), ("due", ChangeKind.DEFAULTED)]
    with pytest.raises(TranslationError, match="dateDue"):
        adapter.to_wire_fields(milestone(due=None), picklist=PICKLIST, currency="USD")


def test_amount_rules_on_write() -> None:
    with pytest.raises(TranslationError, match="EUR"):
        adapter.to_wire_fields(milestone(amount=Money("10", "EUR")), picklist=PICKLIST, currency="USD")
    with pytest.raises(TranslationError, match="fraction of a minor unit"):
        adapter.to_wire_fields(milestone(amount=Money("10.005", "USD")), picklist=PICKLIST, currency="USD")
    with pytest.raises(TranslationError, match="percentage"):
        adapter.to_wire_fields(milestone(amount=None, percentage=Decimal(50)), picklist=PICKLIST, currency="USD")


def test_status_without_label_in_picklist() -> None:
    with pytest.raises(TranslationError, match="Ready to Bill"):
        adapter.to_wire_fields(milestone(), picklist={1: "Not Ready to Bill", 3: "Billed"}, currency="USD")


def test_diff_fields_only_reports_changes() -> None:
    current = record(description="Phase one", amount=Decimal("1500.50"))
    same = adapter.to_wire_fields(milestone(), picklist=PICKLIST, currency="USD")
    assert adapter.diff_fields(same.fields, current) == {}
    changed = adapter.to_wire_fields(milestone(title="New", due=dt.date(2026, 4, 1)), picklist=PICKLIST, currency="USD")
    assert adapter.diff_fields(changed.fields, current) == {"title": "New", "dateDue": dt.date(2026, 4, 1)}


@given(
    minor=st.integers(min_value=0, max_value=10**12),
    currency=st.sampled_from(["USD", "JPY", "KWD", "EUR"]),
    title=st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=50).filter(str.strip),
    description=st.none() | st.text(st.characters(exclude_categories=["Cs"]), max_size=230),
    key=st.none() | st.from_regex(r"[A-Za-z0-9:_-]{1,12}", fullmatch=True),
    status=st.sampled_from([MilestoneStatus.PLANNED, MilestoneStatus.READY_TO_BILL]),
)
def test_round_trip_property(
    minor: int, currency: str, title: str, description: str | None, key: str | None, status: MilestoneStatus
) -> None:
    """Whatever fits Autotask comes back equal, sync key included; amounts stay exact."""
    original = Milestone(
        title=title,
        description=description,
        amount=Money.from_minor(minor, currency),
        due=dt.date(2026, 5, 1),
        status=status,
    )
    if key:
        original = original.with_sync_key(key)
    out = adapter.to_wire_fields(original, picklist=PICKLIST, currency=currency)
    wire = ContractMilestone.model_validate({**out.fields, "id": 1, "contractID": 2})
    back = adapter.to_milestone(wire, picklist=PICKLIST, currency=currency)
    expected_description = (description.rstrip() or None) if description and key else (description or None)
    assert back.amount == original.amount and back.title == title and back.status is status
    assert back.description == expected_description
    assert back.sync_key == key
    assert len(out.fields["description"] or "") <= 250
