"""A dead holder's slot frees after a few times its process's longest recent hold, not its whole timeout.

The rule itself (``HoldSpans``) without a database, then on a real PostgreSQL: the lease a hold is stamped with
on the server, and a killed worker's slot taken again by another long before the whole lease it would have had.
Durations are asserted only as bounds on the server's stamps, never as timings of the test."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from billing_milestones.workers import PostgresLimiter
from billing_milestones.workers._budgets import _GRACE
from billing_milestones.workers._hold_spans import FACTOR, KEPT, SEEN, HoldSpans

NAME = "bm-limit:t:k"


def test_the_whole_lease_until_enough_holds_are_seen() -> None:
    spans = HoldSpans(96.0, 1.0)
    for _ in range(SEEN - 1):
        spans.record(0.1)
        assert spans.lease_now() == 96.0
    spans.record(0.1)
    assert spans.lease_now() == pytest.approx(1.0 + FACTOR * 0.1)


def test_the_longest_recent_hold_sets_the_lease_capped_at_the_whole_one() -> None:
    spans = HoldSpans(96.0, 1.0)
    for seconds in [0.05] * SEEN + [0.2, 0.05]:
        spans.record(seconds)
    assert spans.lease_now() == pytest.approx(1.0 + FACTOR * 0.2)  # the longest, not the latest
    spans.record(30.0)  # a slow spell: the next holds are stamped with the whole lease at once
    assert spans.lease_now() == 96.0
    spans.record(-1.0)  # a clock that stepped back counts as nothing, never as a shorter lease than the grace
    assert spans.lease_now() == 96.0


def test_only_the_latest_holds_count() -> None:
    spans = HoldSpans(96.0, 1.0)
    spans.record(10.0)
    for _ in range(KEPT - 1):
        spans.record(0.1)
    assert spans.lease_now() == pytest.approx(1.0 + FACTOR * 10.0)  # still among the latest KEPT
    spans.record(0.1)
    assert spans.lease_now() == pytest.approx(1.0 + FACTOR * 0.1)  # pushed out


def stamp(url: str, name: str = NAME) -> timedelta:
    """How far ahead of the server's clock the held slot of ``name`` is leased (test_budgets_review_leases too)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT busy_until - clock_timestamp() FROM bm_request_slots WHERE name = %s AND holder IS NOT NULL",
            (name,),
        ).fetchone()
    assert row is not None
    lease: timedelta = row[0]
    return lease


def test_a_hold_is_stamped_with_the_shortened_lease_once_holds_are_seen(
    url: str, limiters: list[PostgresLimiter]
) -> None:
    limiter = PostgresLimiter(url, 2, namespace="t")  # the clients' default timeout: a whole lease of 96 s
    limiters.append(limiter)
    with limiter("k"):
        assert stamp(url) > timedelta(seconds=limiter.lease - 5)  # nothing seen yet: the whole lease
    for _ in range(SEEN):
        with limiter("k"):
            pass
    longest = max(limiter.spans._spans)
    with limiter("k"):
        stamped = stamp(url)
    assert stamped <= timedelta(seconds=_GRACE + FACTOR * longest)
    assert stamped < timedelta(seconds=limiter.lease / 10)


def test_a_killed_workers_slot_is_taken_again_long_before_its_whole_lease(
    url: str, limiters: list[PostgresLimiter]
) -> None:
    """The killed process had finished its holds quickly: the slot it died holding is taken by another
    process at its shortened lease, while the whole lease (96 s) has far from run out."""
    code = (
        "import sys, time\n"
        "from billing_milestones.workers import PostgresLimiter\n"
        f"limiter = PostgresLimiter({url!r}, 1, namespace='t')\n"
        f"for _ in range({SEEN}):\n"
        "    with limiter('k'):\n"
        "        pass\n"
        "held = limiter('k')\n"
        "held.__enter__()\n"
        "print('held', max(limiter.spans._spans), flush=True)\n"
        "time.sleep(60)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        said, longest = holder.stdout.readline().split()
        assert said == "held"
        with psycopg.connect(url, autocommit=True) as conn:
            row: Any = conn.execute(
                "SELECT holder, busy_until, busy_until - clock_timestamp() FROM bm_request_slots WHERE name = %s",
                (NAME,),
            ).fetchone()
        dead_token, dead_until, left = row
        # Stamped short: the take below waits that long, not the whole lease.
        assert left <= timedelta(seconds=_GRACE + FACTOR * float(longest))
        holder.kill()
        holder.wait(10)
        limiter = PostgresLimiter(url, 1, namespace="t")
        limiters.append(limiter)
        with limiter("k"), psycopg.connect(url, autocommit=True) as conn:
            token, until = conn.execute(
                "SELECT holder, busy_until FROM bm_request_slots WHERE name = %s", (NAME,)
            ).fetchone() or (None, None)
        assert token != dead_token
        assert until - timedelta(seconds=limiter.lease) >= dead_until  # taken only after the dead lease ran out
    finally:
        holder.kill()
        holder.wait(10)
