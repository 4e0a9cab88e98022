"""Translation rules from mutation testing's survivors (issue 17): every refusal names its field, the source
value and the way out; every change to a field is recorded; nothing a target cannot hold is guessed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing_milestones import Milestone, MilestoneKey, Money, Platform, Trigger
from billing_milestones._platforms import spec_for
from billing_milestones.errors import TranslationError
from billing_milestones.model import ChangeKind, FieldChange
from billing_milestones.sync import SyncPair, TriggerMap, translate
from billing_milestones.sync.translate import COMPARED_FIELDS, FieldDiff

D = dt.date(2027, 1, 15)
TO_KANTATA = SyncPair(Platform.AUTOTASK, "77", Platform.KANTATA, "900")
TO_AUTOTASK = SyncPair(Platform.KANTATA, "900", Platform.AUTOTASK, "77")


def milestone(amount: str | None = "100.00", currency: str = "USD", **kw: object) -> Milestone:
    money = Money(amount, currency) if amount is not None else None
    key = MilestoneKey(platform=Platform.AUTOTASK, id="1", container_id="77")
    return Milestone(key=key, title="Kick-off", amount=money, due=D, **kw)


def refusal(source: Milestone, pair: SyncPair, **kw: str) -> TranslationError:
    with pytest.raises(TranslationError) as info:
        translate(source, pair, **kw)
    return info.value


def test_compared_fields_maps_every_platform_to_the_fields_its_spec_stores() -> None:
    assert dict(COMPARED_FIELDS) == {p: spec_for(p).compared_fields for p in Platform}
    assert len(COMPARED_FIELDS) == len(Platform)


def test_a_field_diff_renders_both_sides_as_plain_json() -> None:
    money = FieldDiff("amount", Money("150.50", "USD"), Money("99.90", "USD"))
    assert money.to_json() == {
        "field": "amount",
        "current": {"amount": "150.5", "currency": "USD"},
        "desired": {"amount": "99.9", "currency": "USD"},
    }
    share = FieldDiff("percentage", Decimal("12.50"), Decimal("7.25"))
    assert share.to_json() == {"field": "percentage", "current": "12.5", "desired": "7.25"}


def test_a_description_the_target_cannot_hold_is_refused_naming_it_and_the_way_out() -> None:
    error = refusal(milestone(description="site notes"), TO_KANTATA)
    assert str(error) == (
        "description: kantata milestones have no description; the source's text would be lost "
        "(set allow_drop on the pair to drop it)"
    )
    assert (error.field, error.source) == ("description", "site notes")


def test_a_description_dropped_by_the_pair_is_gone_and_recorded_with_its_text() -> None:
    allowed = SyncPair(Platform.AUTOTASK, "77", Platform.KANTATA, "900", allow_drop=True)
    desired = translate(milestone(description="site notes"), allowed)
    assert desired.description is None
    assert desired.changes == (
        FieldChange(
            field="description",
            kind=ChangeKind.DROPPED,
            before="site notes",
            reason="kantata has no description field; dropped because the pair allows it",
        ),
    )


def test_a_description_too_long_for_the_target_is_refused_or_truncated_and_recorded() -> None:
    limit = spec_for(Platform.AUTOTASK).text_limits["description"]
    text = "d" * (limit + 5)
    error = refusal(milestone(description=text), TO_AUTOTASK)
    assert str(error) == (
        f"description: {limit + 5} characters, autotask description allows {limit}; "
        "set truncate on the pair to shorten it"
    )
    shorten = SyncPair(Platform.KANTATA, "900", Platform.AUTOTASK, "77", truncate=True)
    desired = translate(milestone(description=text), shorten)
    assert desired.description == "d" * limit
    assert [(c.field, c.kind, c.after) for c in desired.changes] == [("description", ChangeKind.TRUNCATED, "d" * limit)]


def test_a_percentage_without_a_total_is_refused_where_the_target_needs_an_amount() -> None:
    error = refusal(milestone(None, percentage=Decimal("20")), TO_KANTATA)
    assert str(error) == (
        "amount: the source holds only a percentage (20%) of a total it does not know; kantata needs an amount"
    )
    assert (error.field, error.source) == ("amount", Decimal("20"))


def test_a_percentage_alone_is_carried_to_a_target_that_takes_one() -> None:
    to_crmcom = SyncPair(Platform.KANTATA, "900", Platform.CRMCOM, "est-1", triggers=TriggerMap({"st-a": "41"}))
    source = milestone(None, percentage=Decimal("20"), trigger=Trigger.on_completion("41"))
    desired = translate(source, to_crmcom)
    assert (desired.amount, desired.percentage, desired.trigger) == (None, Decimal("20"), Trigger.on_stage("st-a"))


def test_an_amount_in_another_currency_is_refused_never_converted() -> None:
    error = refusal(milestone(), TO_KANTATA, target_currency="EUR")
    assert str(error) == (
        "amount: 100.00 USD is in USD but the target container bills in EUR; no exchange rate is applied silently"
    )
    assert (error.field, error.source) == ("amount", "100.00 USD")


def test_an_amount_finer_than_the_currencys_minor_unit_is_refused() -> None:
    error = refusal(milestone("10.005"), TO_KANTATA)
    assert str(error) == "amount: 10.005 USD has a fraction of a minor unit and cannot be stored exactly"
    assert (error.field, error.source) == ("amount", "10.005 USD")


@pytest.mark.parametrize(("pair", "carried"), [(TO_AUTOTASK, True), (TO_KANTATA, False)])
def test_the_initial_payment_flag_reaches_only_a_target_that_has_one(pair: SyncPair, carried: bool) -> None:
    assert translate(milestone(is_initial_payment=True), pair).is_initial_payment is carried


def test_a_field_difference_in_json_never_shows_an_exponent() -> None:
    """100.00 USD reads "100" in the plan JSON a script parses, not "1E+2"."""
    from billing_milestones.sync import FieldDiff

    diff = FieldDiff("amount", Money("100.00", "USD"), Money("2500", "USD"))
    assert diff.to_json() == {
        "field": "amount",
        "current": {"amount": "100", "currency": "USD"},
        "desired": {"amount": "2500", "currency": "USD"},
    }
