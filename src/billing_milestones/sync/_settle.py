"""Let a dead run's writes settle before a rerun reads the target.

Every write is bracketed by an intent (:mod:`.apply`): begun before the request, closed after the answer. A
run killed mid-write (SIGKILL, OOM, a lost machine) leaves its intents ``pending``, and the request it had
sent may still be being served: the process died, not the request. The next run of the pair takes the lease
at once (a dead holder's lease is freed when its process or its store session is gone, and a worker's job
is requeued within a second), so if it listed the target then, it could miss the milestone the dead run's
POST is about to store and create it again: an invoice sent twice.

A client that had not died would itself have waited for that answer up to its whole timeout. So before a
write run lists the target, under the pair's lease, :func:`settle_pending` waits until the pair's youngest
pending intent is older than the *settle window* (the longest such a request can live). While we hold the
lease no other run can begin an intent of the pair, so once the wait is over the listing shows every write
of the dead run that was going to land (and its sync key lets the planner adopt it instead of creating it).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from typing import Final, Protocol

from .._http._types import DEFAULT_TIMEOUT, timeout_bound
from ..errors import PendingWritesError
from .store._model import Intent

__all__ = ["DEFAULT_WRITE_SETTLE", "SETTLE_GRACE", "pending_settle_at", "settle_pending"]

_log = logging.getLogger("billing_milestones.sync")

#: Added to the request bound: the moment between an intent's stamp and its request leaving, and clock skew
#: between machines. The intents' ``created_at`` is written by the writer's clock and read here by ours; a
#: writer whose clock is behind ours by more than this second makes its intents look older than they are,
#: and nothing else here covers that (keep the machines' clocks synchronised, or configure a longer window).
SETTLE_GRACE: Final = 1.0


#: Seconds a pending intent is given to land before a rerun lists the target: the default timeout's request
#: bound plus :data:`SETTLE_GRACE` (96 s). Why the request bound: a client that had not died would itself have
#: waited that long for the answer, and no longer. Clock skew between the machine that stamped an intent's
#: ``created_at`` and the one reading it is covered by the 1 s grace only. Clients configured with a longer
#: timeout, or clocks that may be further apart, need a longer window (``write_settle`` in the pair's settings).
_DEFAULT_BOUND: Final = timeout_bound(DEFAULT_TIMEOUT)  # httpx.Timeout(30.0, connect=5.0): 95 s
if _DEFAULT_BOUND is None:  # pragma: no cover - the clients' default bounds every phase
    raise RuntimeError("the clients' default timeout must bound every phase: the settle window is made from it")
DEFAULT_WRITE_SETTLE: Final = _DEFAULT_BOUND + SETTLE_GRACE


#: The clock the stamps are compared with, and the wait (module attributes so a test can replace them).
_wall: Callable[[], float] = time.time
_sleep: Callable[[float], None] = time.sleep


class _PendingSource(Protocol):
    def pending(self, pair_id: str | None = None) -> Sequence[Intent]: ...


class _Ensurable(Protocol):
    def ensure(self) -> None: ...


def _stamp(text: str, now: float) -> float:
    """An intent's ``created_at`` as seconds since the epoch; a stamp that cannot be read counts as begun
    ``now`` (its age is unknown: it is given a whole window)."""
    try:
        parsed = dt.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return now
    if parsed.tzinfo is None:  # written as UTC by every backend
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


def pending_settle_at(intents: Sequence[Intent], window: float, now: float) -> float | None:
    """When every one of ``intents`` is ``window`` seconds old (seconds since the epoch); None without any."""
    if not intents:
        return None
    return max(_stamp(intent.created_at, now) for intent in intents) + window


def _iso(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def settle_pending(
    store: _PendingSource,
    pair_id: str,
    *,
    window: float = DEFAULT_WRITE_SETTLE,
    max_wait: float | None = None,
    lease: _Ensurable | None = None,
    now: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> float:
    """Wait until the pair's pending intents are ``window`` seconds old; the seconds waited.

    Call it holding the pair's lease, before listing the target (``milestones sync`` and the workers do; a
    caller that lists and plans itself before :func:`~billing_milestones.sync.apply_plan` should take the
    lease, call this, then list). The lease's heartbeat keeps the lease meanwhile; ``lease.ensure()`` is
    checked once the wait is over (LeaseLostError if it was lost).

    A wait longer than ``max_wait`` (default: the window plus a second's grace, which only a stamp ahead
    of this clock needs) is not started: :class:`PendingWritesError` (a PairBusyError: the CLI exits 3, a
    worker's job is retried later) names the pair, how many writes and when they settle. Nothing was read or
    written then. ``now`` (wall clock, as the stamps are) and ``sleep`` default to this module's ``_wall``
    and ``_sleep``, which tests replace to run the CLI's and workers' path without waiting."""
    now = now or _wall
    sleep = sleep or _sleep
    limit = window + SETTLE_GRACE if max_wait is None else max_wait
    intents = store.pending(pair_id)
    start = now()
    settle_at = pending_settle_at(intents, window, start)
    if settle_at is None or settle_at <= start:
        return 0.0
    wait = settle_at - start
    if wait > limit:
        raise PendingWritesError(
            f"pair {pair_id}: {len(intents)} write(s) of a run that stopped are still pending; they settle at "
            f"{_iso(settle_at)} (in {wait:.0f} s, more than this run waits: {limit:g} s). Nothing "
            "was written: rerun after that",
            pair_id=pair_id,
            pending=len(intents),
            settles_at=_iso(settle_at),
        )
    _log.warning(
        "pair %s: waiting %.1f s for %d pending write(s) of a run that stopped to settle before listing",
        pair_id,
        wait,
        len(intents),
    )
    # One sleep of the whole wait (time.sleep sleeps it all, a signal aside): a wall clock set back meanwhile
    # is not followed, the wait stays bounded by what was decided here.
    sleep(wait)
    if lease is not None:
        lease.ensure()
    return wait
