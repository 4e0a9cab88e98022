"""The page reader's ``today`` is the date rule's input: a ``date`` subclass (a test clock's, a calendar
library's) is still a date, and the reader must pass it on to ``to_milestone`` rather than drop it, so that a
milestone due on or before it reads as ready to bill either way."""

from __future__ import annotations

import datetime as dt

from billing_milestones.kantata._read import milestone_reader
from billing_milestones.kantata.adapter import to_milestone
from billing_milestones.model import MilestoneStatus

from .test_adapter import USD, wire


class CalendarDate(dt.date):
    """A date subclass, as a calendar or clock library might hand one out."""


def test_a_date_subclass_today_still_decides_the_status() -> None:
    today = CalendarDate(2026, 4, 1)
    due_today, due_later = wire(date_to_invoice="2026-04-01"), wire(id="70002", date_to_invoice="2026-04-02")
    read = milestone_reader(USD, today=today)
    assert read(due_today).status is MilestoneStatus.READY_TO_BILL
    assert read(due_later).status is MilestoneStatus.PLANNED
    assert read(due_today) == to_milestone(due_today, USD, today=today)
    assert read(due_later) == to_milestone(due_later, USD, today=today)


def test_a_plain_date_today_reads_as_to_milestone_reads() -> None:
    today = dt.date(2026, 4, 1)
    due_today = wire(date_to_invoice="2026-04-01")
    assert milestone_reader(USD, today=today)(due_today).status is MilestoneStatus.READY_TO_BILL
    assert milestone_reader(USD, today=None)(due_today).status is MilestoneStatus.PLANNED
