"""dateDue goes out as the swagger's date-time whatever form the caller gives it."""

from __future__ import annotations

import datetime as dt

import pytest

from billing_milestones import errors
from billing_milestones.autotask._operations import format_date_due


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        (dt.date(2026, 7, 1), "2026-07-01T00:00:00"),
        ("2026-07-01", "2026-07-01T00:00:00"),  # date-only text was sent unchanged, outside the swagger
        ("2026-07-01T10:30:00", "2026-07-01T10:30:00"),
        (dt.datetime(2026, 7, 1, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))), "2026-07-01T08:30:00Z"),
        ("2026-07-01T10:30:00+02:00", "2026-07-01T08:30:00Z"),
    ],
)
def test_date_due_is_sent_as_a_date_time(given: object, sent: str) -> None:
    assert format_date_due(given) == sent


@pytest.mark.parametrize("bad", ["July 1st", "2026-13-01", 20260701])
def test_a_date_due_that_is_not_a_date_is_refused_by_name(bad: object) -> None:
    with pytest.raises(errors.ValidationError) as info:
        format_date_due(bad)
    assert info.value.field == "dateDue"
