"""The full comparison of a bulk create's reply (kantata/_tie.tie_back), when the reply is not in request order:
among milestones of one title and amount the story decides; an input matched only loosely is still paired when
an input before it was matched exactly; and an input nothing matches is refused by its title and amount."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from billing_milestones import errors
from billing_milestones.kantata._tie import tie_back
from billing_milestones.kantata.wire import BillingMilestone, BillingMilestoneCreate


def _sent(title: str, cents: int, **over: Any) -> BillingMilestoneCreate:
    return BillingMilestoneCreate(**{"title": title, "amount_in_cents": cents, "workspace_id": "900", **over})


def _made(ident: int, title: str, cents: int, **over: Any) -> BillingMilestone:
    values = {"id": str(ident), "title": title, "amount_in_cents": cents, "workspace_id": "900", **over}
    return BillingMilestone.model_validate(values)


def test_among_equal_titles_and_amounts_the_story_pairs_them() -> None:
    due = dt.date(2027, 1, 31)
    inputs = [_sent("Instalment", 500, date_to_invoice=due, story_id=s) for s in ("71", "72", "73")]
    reply = [
        _made(3, "Instalment", 500, date_to_invoice="2027-01-31", story_id="73"),
        _made(1, "Instalment", 500, date_to_invoice="2027-01-31", story_id="71"),
        _made(2, "Instalment", 500, date_to_invoice="2027-01-31", story_id="72"),
    ]
    tied = tie_back(inputs, reply)
    assert [m.id for m in tied] == ["1", "2", "3"]
    assert [m.story_id for m in tied] == ["71", "72", "73"]


def test_an_input_matched_loosely_is_paired_after_one_matched_exactly() -> None:
    """The reply's date differs from what the second input sent (the platform moved it): the exact pass pairs
    the first input, the loose pass must still go on to the second."""
    inputs = [
        _sent("A", 100, date_to_invoice=dt.date(2027, 1, 31)),
        _sent("B", 200, date_to_invoice=dt.date(2027, 2, 1)),
    ]
    reply = [
        _made(2, "B", 200, date_to_invoice="2027-02-02"),
        _made(1, "A", 100, date_to_invoice="2027-01-31"),
    ]
    assert [m.id for m in tie_back(inputs, reply)] == ["1", "2"]


def test_an_input_nothing_matches_is_refused_by_its_position_title_and_amount() -> None:
    inputs = [_sent("Kick-off", 100), _sent("Final", 250)]
    reply = [_made(1, "Kick-off", 100), _made(2, "Final", 999)]
    with pytest.raises(errors.ValidationError) as caught:
        tie_back(inputs, reply)
    assert "input 1 ('Final', 250): no match in the response" in str(caught.value)
