"""A bulk create's reply in request order is tied back by the in-place check alone (kantata/_tie._in_place):
no fingerprint or detail is built for it. The full comparison gives the same pairing (tests/kantata/
test_write_bodies.py compares both), so only these tests tell a broken in-place check from a working one."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any
from unittest.mock import patch

import pytest

from billing_milestones import errors
from billing_milestones.kantata._tie import Sent, tie_back
from billing_milestones.kantata.wire import BillingMilestone, BillingMilestoneCreate


def _sent(n: int, **over: Any) -> BillingMilestoneCreate:
    return BillingMilestoneCreate(**{"title": f"M{n}", "amount_in_cents": n, "workspace_id": "900", **over})


def _made(n: int, **over: Any) -> BillingMilestone:
    values = {"id": str(100 + n), "title": f"M{n}", "amount_in_cents": n, "workspace_id": "900", **over}
    return BillingMilestone.model_validate(values)


def _refuse(*args: object) -> None:
    raise AssertionError("the full comparison ran for a reply in request order")


@pytest.mark.parametrize(
    ("sent", "made"),
    [
        ({}, {}),
        ({"workspace_id": 900}, {}),
        ({"title": " M1\t"}, {"title": "M1"}),
        ({"date_to_invoice": dt.date(2027, 1, 31)}, {"date_to_invoice": "2027-01-31"}),
        ({"story_id": "7"}, {"story_id": "7"}),
    ],
)
def test_a_reply_in_request_order_is_tied_back_without_the_full_comparison(
    sent: dict[str, Any], made: dict[str, Any]
) -> None:
    inputs = [_sent(1, **sent), _sent(2), _sent(3, **sent)]
    reply = [_made(1, **made), _made(2), _made(3, **made)]
    with (
        patch("billing_milestones.kantata._tie._fingerprint", _refuse),
        patch("billing_milestones.kantata._tie._detail", _refuse),
    ):
        assert tie_back(inputs, reply) is reply
        assert tie_back([Sent.of(b) for b in inputs], reply) is reply


@pytest.mark.parametrize(
    ("sent", "made"),
    [
        ({}, {"amount_in_cents": 99}),
        ({}, {"title": "Other"}),
        ({}, {"workspace_id": "901"}),
        ({"date_to_invoice": dt.date(2027, 1, 31)}, {}),
        ({}, {"date_to_invoice": "2027-01-31"}),
        ({"date_to_invoice": dt.date(2027, 1, 31)}, {"date_to_invoice": "2027-02-01"}),
        ({"story_id": "7"}, {}),
        ({}, {"story_id": "7"}),
        ({"story_id": "7"}, {"story_id": "8"}),
    ],
)
def test_a_reply_that_differs_takes_the_full_comparison(sent: dict[str, Any], made: dict[str, Any]) -> None:
    calls: list[object] = []

    def counted(*args: Any) -> object:
        calls.append(args)
        return args

    # The full comparison may refuse the pairing: that it ran is what is checked.
    with patch("billing_milestones.kantata._tie._fingerprint", counted), contextlib.suppress(errors.ValidationError):
        tie_back([_sent(1, **sent)], [_made(1, **made)])
    assert calls
