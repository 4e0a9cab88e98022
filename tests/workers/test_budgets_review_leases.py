"""Review of the shortened lease (``_hold_spans``) on a real PostgreSQL: a hold is stamped with the lease its
process's holds say at the moment it takes its slot, not the one they said when it started waiting, and with
its own endpoint's holds counted, whatever another endpoint's say.

Leases are read on the server's clock (the one that stamps them); the only sleep is a hold made long on
purpose, so that its length shows in the lease after it."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from billing_milestones.workers import PostgresLimiter
from billing_milestones.workers._budgets import _GRACE
from billing_milestones.workers._hold_spans import FACTOR, KEPT, SEEN, HoldSpans

from ._waiting import wait_for
from .test_hold_spans import stamp as _stamp

NAME = "bm-limit:t:k"
#: The hold made long on purpose: its lease after it is a second plus four times this, not a second.
SLOW = 0.5
#: The holds of the endpoint whose requests are slower than another's.
SLOWER = 0.1


def test_a_take_that_waited_through_a_slow_hold_is_stamped_with_the_lease_after_it(
    url: str, limiters: list[PostgresLimiter], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The waiter started waiting while the history was fast (a lease of about a second); the hold it
    waited for took SLOW seconds and was recorded before its release woke the waiter. The slot is taken
    after that slow hold, so its lease must count it ("a slow spell lengthens the next leases at once"):
    stamped with the lease computed before the wait, a killed waiter's slot freed after about a second."""
    limiter = PostgresLimiter(url, 1, namespace="t", max_wait=30)
    limiters.append(limiter)
    for _ in range(SEEN):
        with limiter("k"):
            pass
    asleep = threading.Event()
    wait = limiter._wakeups.wait

    def sleeping(name: str, heard: int, timeout: float) -> None:
        asleep.set()
        wait(name, heard, timeout)

    monkeypatch.setattr(limiter._wakeups, "wait", sleeping)
    stamped: list[timedelta] = []
    leases: list[float] = []

    def waiter() -> None:
        with limiter("k"):
            leases.append(limiter.spans.lease_now(NAME))  # the slow hold is recorded: what a take now stamps
            stamped.append(_stamp(url))

    hold = limiter("k")
    hold.__enter__()
    started = time.monotonic()
    thread = threading.Thread(target=waiter, daemon=True)
    thread.start()
    wait_for(asleep.is_set, "the waiter waiting for the held slot")
    time.sleep(max(0.0, SLOW - (time.monotonic() - started)))
    hold.__exit__(None, None, None)
    thread.join(30)
    [lease], [stamp] = leases, stamped
    assert lease >= 1.0 + 4 * SLOW - 0.01
    # What elapsed between the waiter's take and the read of its stamp is a few round trips on loopback.
    assert stamp > timedelta(seconds=lease - 0.5)


def test_a_keys_lease_is_not_shortened_by_another_keys_holds(url: str, limiters: list[PostgresLimiter]) -> None:
    """One limiter serves every endpoint of a tenant, and a slot guards one endpoint's request. An endpoint
    whose requests take SLOWER seconds must keep a lease of four times that however many quick requests
    another endpoint sent since (a sync lists one slow endpoint among many quick ones); and an endpoint not
    seen yet gets the whole lease, as a process's first holds do, not the others' short one."""
    limiter = PostgresLimiter(url, 1, namespace="t")
    limiters.append(limiter)
    for _ in range(SEEN):
        with limiter("slow"):
            time.sleep(SLOWER)
    for _ in range(KEPT):
        with limiter("fast"):
            pass
    with limiter("slow"):
        slow = _stamp(url, "bm-limit:t:slow")
    with limiter("new"):
        new = _stamp(url, "bm-limit:t:new")
    assert slow > timedelta(seconds=_GRACE + FACTOR * SLOWER - 0.2)
    assert new > timedelta(seconds=limiter.lease - 5)


def test_a_slow_hold_of_any_key_lengthens_every_keys_next_lease() -> None:
    """The key's own holds decide when a lease is shortened and how little it may be; a slow spell seen on
    another endpoint still lengthens it at once (the tenant's Autotask may be slow for every endpoint)."""
    spans = HoldSpans(96.0, 1.0)
    for _ in range(SEEN):
        spans.record(0.01, "fast")
    assert spans.lease_now("fast") == pytest.approx(1.0 + FACTOR * 0.01)
    assert spans.lease_now("other") == 96.0  # nothing seen of it
    spans.record(2.0, "other")
    assert spans.lease_now("fast") == pytest.approx(1.0 + FACTOR * 2.0)
