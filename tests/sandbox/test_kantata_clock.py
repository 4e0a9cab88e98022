"""The Kantata emulator's clock (each tick written as ``(epoch + n seconds).isoformat()``, whatever the epoch) and
the public copy of a milestone (without its private keys, whatever it holds)."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest

from billing_milestones.sandbox import KantataSandbox

KANTATA = "https://api.mavenlink.com/api/v1"

EPOCHS = [
    dt.datetime(2026, 1, 5, 9, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=-7))),  # the default's kind
    dt.datetime(2026, 1, 5, 9, 0, 0, 250, tzinfo=dt.UTC),
    dt.datetime(2026, 1, 5, 9, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30, seconds=15))),
    dt.datetime(2026, 1, 5, 9, 0, 0),  # naive
    dt.datetime(2026, 3, 8, 1, 59, 0, tzinfo=ZoneInfo("America/Denver")),  # a zone whose offset changes
    dt.datetime(2026, 12, 31, 23, 58, 59, 999999, tzinfo=dt.timezone(-dt.timedelta(hours=3))),  # into a new year
    dt.datetime(999, 2, 28, 23, 59, 30, 5),  # a three-digit year, naive, a fraction
]


def _ticks(epoch: dt.datetime, start: int, count: int) -> list[str]:
    return [(epoch + dt.timedelta(seconds=n)).isoformat() for n in range(start, start + count)]


def test_the_default_clock_writes_the_documented_times() -> None:
    sandbox = KantataSandbox()
    assert [sandbox._now() for _ in range(3)] == _ticks(sandbox._epoch, 1, 3)
    assert sandbox._now() == "2026-01-05T09:00:04-07:00"


@pytest.mark.parametrize("epoch", EPOCHS, ids=str)
def test_each_tick_is_the_epochs_time_plus_its_seconds(epoch: dt.datetime) -> None:
    sandbox = KantataSandbox()
    sandbox._epoch = epoch
    sandbox._seq = itertools.count(50)
    assert [sandbox._now() for _ in range(130)] == _ticks(epoch, 50, 130)  # across the Denver change too


def test_ticks_a_minute_or_more_apart_past_the_minutes_kept_are_the_epochs_time_plus_their_seconds() -> None:
    """Each tick in a minute of its own: the clock's texts of minutes are made and let go, every text right."""
    sandbox = KantataSandbox()
    sandbox._seq = itertools.count(-7, 61)
    ticks = [sandbox._now() for _ in range(10_050)]
    assert ticks == [(sandbox._epoch + dt.timedelta(seconds=n)).isoformat() for n in range(-7, -7 + 61 * 10_050, 61)]


def test_an_epoch_set_between_ticks_is_read_at_the_next_tick() -> None:
    sandbox = KantataSandbox()
    first = sandbox._now()
    sandbox._epoch = EPOCHS[1]
    assert first == "2026-01-05T09:00:01-07:00"
    assert sandbox._now() == (EPOCHS[1] + dt.timedelta(seconds=2)).isoformat()
    sandbox._epoch = EPOCHS[4]
    assert sandbox._now() == (EPOCHS[4] + dt.timedelta(seconds=3)).isoformat()


def test_a_milestone_is_listed_without_its_private_keys_whatever_it_holds() -> None:
    """The copy of a milestone as ``_insert`` stores it drops ``_seq``; one holding other keys is sifted."""
    sandbox = KantataSandbox()
    workspace = sandbox.add_workspace("W")
    plain, extra, fewer = (sandbox.add_milestone(workspace, f"M{i}", 100) for i in range(3))
    sandbox.milestones[extra]["_note"] = "private"
    sandbox.milestones[extra]["note"] = "public"
    del sandbox.milestones[fewer]["invoice_id"]
    with sandbox.http_client(base_url=KANTATA, headers={"Authorization": "Bearer tok"}) as http:
        listed = http.get("/billing_milestones", params={"workspace_ids": workspace}).json()["billing_milestones"]
    for ident in (plain, extra, fewer):
        stored = sandbox.milestones[ident]
        assert list(listed[ident]) == [k for k in stored if not k.startswith("_")]
        assert listed[ident] == {k: v for k, v in stored.items() if not k.startswith("_")}
    assert "note" in listed[extra] and "invoice_id" not in listed[fewer]
