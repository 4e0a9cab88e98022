"""How a field difference reads in the plan JSON (sync/translate.py ``FieldDiff.to_json``), pinned for every
kind of value a compared field holds: numbers as plain decimals ("100", never "1E+2"), money as an amount and
a currency, dates as ISO text, triggers as ``kind:ref``, text and flags as they are; and ``compare`` finding a
field set on one side only, whichever side it is."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing_milestones import Milestone, Money, Platform, Trigger
from billing_milestones.sync.translate import FieldDiff, compare


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("100"), "100"),
        (Decimal("1E+2"), "100"),
        (Decimal("12.50"), "12.5"),
        (Decimal("0.000001"), "0.000001"),
        (Money("100.00", "USD"), {"amount": "100", "currency": "USD"}),
        (Money("1E+3", "JPY"), {"amount": "1000", "currency": "JPY"}),
        (dt.date(2026, 12, 1), "2026-12-01"),
        (Trigger.on_completion("41"), "on_completion:41"),
        (Trigger.fixed_date(), "fixed_date:"),
        ("  a title  ", "  a title  "),
        (True, True),
        (None, None),
    ],
)
def test_a_field_difference_shows_each_value_as_a_script_reads_it(value: object, shown: object) -> None:
    assert FieldDiff("f", value, None).to_json() == {"field": "f", "current": shown, "desired": None}
    assert FieldDiff("f", None, value).to_json() == {"field": "f", "current": None, "desired": shown}


D = dt.date(2026, 12, 1)


def _m(**kw: object) -> Milestone:
    return Milestone(**{"title": "M", "amount": Money("1.00", "USD"), **kw})


@pytest.mark.parametrize(
    ("platform", "field", "value"),
    [
        (Platform.KANTATA, "due", D),
        (Platform.AUTOTASK, "due", D),
        (Platform.AUTOTASK, "description", "the text"),
        (Platform.CRMCOM, "percentage", Decimal("10")),
    ],
)
def test_a_field_set_on_only_one_side_is_a_difference_whichever_side_holds_it(
    platform: Platform, field: str, value: object
) -> None:
    held, empty = _m(**{field: value}), _m()
    assert getattr(empty, field) is None
    assert compare(held, empty, platform) == [FieldDiff(field, None, value)]  # the target lost it
    assert compare(empty, held, platform) == [FieldDiff(field, value, None)]  # the source dropped it
    assert compare(held, _m(**{field: value}), platform) == []


def test_the_sync_key_reference_is_built_as_a_validated_one_would_be() -> None:
    from billing_milestones import MilestoneKey
    from billing_milestones.model import SYNC_SERVICE_NAME, ExternalRef
    from billing_milestones.sync import SyncPair
    from billing_milestones.sync.translate import translate

    pair = SyncPair(Platform.AUTOTASK, "77", Platform.KANTATA, "900")
    source = _m(key=MilestoneKey(platform=Platform.AUTOTASK, id="1", container_id="77"), due=D)
    (ref,) = translate(source, pair, sync_key="sk-1").external_refs
    validated = ExternalRef(service=SYNC_SERVICE_NAME, ref="sk-1")
    assert ref == validated and ref.model_fields_set == validated.model_fields_set == {"service", "ref"}
    assert ref.model_dump(exclude_unset=True) == {"service": SYNC_SERVICE_NAME, "ref": "sk-1"}
