"""Autotask translation rules that mutation testing showed no test stated (``make mutate``); one test per rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from billing_milestones.autotask import adapter
from billing_milestones.autotask.wire import DESCRIPTION_MAX, ContractMilestone
from billing_milestones.errors import TranslationError
from billing_milestones.model import (
    ChangeKind,
    FieldChange,
    Milestone,
    MilestoneStatus,
    Trigger,
)
from billing_milestones.money import Money

PICKLIST = {1: "Not Ready to Bill", 2: "Ready to Bill", 3: "Billed"}
DUE = dt.date(2026, 3, 31)


def record(**over: Any) -> ContractMilestone:
    base: dict[str, Any] = {
        "id": 11,
        "contractID": 7,
        "title": "Design",
        "amount": Decimal("1500.5"),
        "dateDue": "2026-03-31T00:00:00",
        "status": 2,
    }
    base.update(over)
    return ContractMilestone.model_validate({k: v for k, v in base.items() if v is not None})


def common(**over: Any) -> Milestone:
    base: dict[str, Any] = {"title": "Design", "amount": Money("1500.50", "USD"), "due": DUE}
    base.update(over)
    return Milestone(**base)


def read(rec: ContractMilestone) -> Milestone:
    return adapter.to_milestone(rec, picklist=PICKLIST, currency="USD")


def write(m: Milestone, **kw: Any) -> adapter.WireFields:
    return adapter.to_wire_fields(m, picklist=PICKLIST, currency="usd", **kw)


# (what is refused, exact message, field, source)
REFUSALS: list[tuple[Callable[[], object], str, str, object]] = [
    (
        lambda: adapter.sync_marker("a b"),
        "sync key 'a b' cannot travel in an Autotask description (no whitespace or brackets)",
        "external_refs",
        "a b",
    ),
    (
        lambda: read(record(status=9)),
        "status 9 is not in the tenant's status picklist {1: 'Not Ready to Bill', 2: 'Ready to Bill', 3: 'Billed'}",
        "status",
        9,
    ),
    (
        lambda: adapter.to_milestone(record(status=4), picklist={4: "Waiting"}, currency="USD"),
        "status label 'Waiting' has no common status (known: ['Billed', 'Not Ready to Bill', 'Ready to Bill']); "
        "unknown labels are never defaulted",
        "status",
        "Waiting",
    ),
    (lambda: read(record(amount=None)), "milestone 11: amount is missing", "amount", None),
    (
        lambda: read(record(amount=Decimal("1.005"))),
        "milestone 11: amount 1.005 USD does not fit the currency's minor unit (amount: 1.005 USD has a fraction "
        "of a minor unit (exponent 2); pass rounding= to round it)",
        "amount",
        Decimal("1.005"),
    ),
    (lambda: read(record(title="")), "milestone 11: title is missing", "title", None),
    (lambda: read(record(title=" \t")), "milestone 11: title is blank (' \\t')", "title", None),
    (
        lambda: write(common(amount=None, percentage=Decimal(30))),
        "amount: Autotask needs an amount; derive it from the percentage and the contract total first",
        "amount",
        Decimal(30),
    ),
    (
        lambda: write(common(amount=Money("1", "EUR"))),
        "amount: milestone is in EUR, the contract bills in USD; convert explicitly first",
        "amount",
        Money("1", "EUR"),
    ),
    (
        lambda: write(common(amount=Money("1.001", "USD"))),
        "amount: 1.001 USD has a fraction of a minor unit (exponent 2); pass rounding= to round it",
        "amount",
        Money("1.001", "USD"),
    ),
    (
        lambda: adapter.to_wire_fields(common(), picklist={3: "Billed"}, currency="USD"),
        "status planned: no label ['Not Ready to Bill'] in the tenant's status picklist {3: 'Billed'}",
        "status",
        MilestoneStatus.PLANNED,
    ),
    (
        lambda: write(common(title="T" * 51)),
        "title: 51 characters, Autotask title allows 50; pass truncate=True to cut it",
        "title",
        "T" * 51,
    ),
    (
        lambda: write(common(description="D" * 251)),
        "description: 251 characters, Autotask description allows 250; pass truncate=True to cut it",
        "description",
        "D" * 251,
    ),
    (
        lambda: write(common(description="D" * 245).with_sync_key("k1")),
        "description: 245 characters (plus the 8-character sync-key marker), Autotask description allows 242; "
        "pass truncate=True to cut it",
        "description",
        "D" * 245,
    ),
    (
        lambda: write(common(due=None)),
        "due: Autotask requires dateDue; set Milestone.due or pass fallback_due=",
        "due",
        None,
    ),
    (
        lambda: write(common(trigger=Trigger.on_completion("S1"))),
        "trigger on_completion(S1) cannot be sent to Autotask, whose milestones are due on a date only; "
        "pass fallback_due= to send it as a fixed date",
        "trigger",
        Trigger.on_completion("S1"),
    ),
]


@pytest.mark.parametrize(("refused", "message", "field", "source"), REFUSALS)
def test_every_refusal_names_the_field_and_what_was_refused(
    refused: Callable[[], object], message: str, field: str, source: object
) -> None:
    with pytest.raises(TranslationError) as info:
        refused()
    assert (info.value.message, info.value.field, info.value.source) == (message, field, source)


def test_a_marker_that_fills_the_whole_description_still_travels() -> None:
    key = "k" * (DESCRIPTION_MAX - len("[bm:]"))
    assert write(common().with_sync_key(key)).fields["description"] == f"[bm:{key}]"
    with pytest.raises(TranslationError, match="sync key marker is 251 characters; the description holds 250") as info:
        write(common().with_sync_key(key + "k"))
    assert (info.value.field, info.value.source) == ("external_refs", key + "k")


def test_a_record_without_id_contract_or_date_reads_without_key_or_due() -> None:
    assert read(record(id=None)).key is None
    assert read(record(contractID=None)).key is None
    assert read(record(dateDue=None)).due is None


def test_what_a_fallback_or_a_truncation_did_is_recorded_exactly() -> None:
    fallback = dt.date(2026, 6, 1)
    assert write(common(due=None), fallback_due=fallback).changes == (
        FieldChange(field="due", kind=ChangeKind.DEFAULTED, after=fallback, reason="the caller's fallback due date"),
    )
    on_story = common(trigger=Trigger.on_completion("S1"), due=None)
    assert write(on_story, fallback_due=fallback).changes == (
        FieldChange(
            field="trigger",
            kind=ChangeKind.DROPPED,
            before="on_completion:S1",
            after="fixed_date:2026-06-01",
            reason="Autotask milestones only have a due date",
        ),
        FieldChange(field="due", kind=ChangeKind.DEFAULTED, after=fallback, reason="the caller's fallback due date"),
    )
    no_marker = write(common(description="D" * 251), truncate=True)
    assert no_marker.fields["description"] == "D" * 250
    assert [(c.field, c.kind, c.reason) for c in no_marker.changes] == [
        ("description", ChangeKind.TRUNCATED, "Autotask description holds at most 250 characters")
    ]
    long = common(title="T" * 51, description="D" * 245).with_sync_key("k1")
    done = write(long, truncate=True)
    assert done.fields["title"] == "T" * 50
    assert done.fields["description"] == "D" * 242 + " [bm:k1]"
    assert [(c.field, c.kind, c.reason) for c in done.changes] == [
        ("title", ChangeKind.TRUNCATED, "Autotask title holds at most 50 characters"),
        (
            "description",
            ChangeKind.TRUNCATED,
            "Autotask description holds at most 242 characters (plus the 8-character sync-key marker)",
        ),
    ]


def test_a_patch_compares_dates_as_dates_and_sends_a_date_the_record_lacks() -> None:
    fields = {"dateDue": dt.datetime(2026, 3, 31, 0, 0), "amount": Decimal("1500.50")}
    assert adapter.diff_fields(fields, record()) == {}
    assert adapter.diff_fields({"dateDue": DUE}, record(dateDue=None)) == {"dateDue": DUE}
