"""Every attempt of a write leaves while its intent's latest stamp is fresh, live writers included.

The settle window (:mod:`._settle`) makes a rerun wait, before it lists the target, until the pair's youngest
pending intent is a request bound (plus a grace) old. That covers a run that died: its last request left
right after its intent was stamped. A run that is alive but lost its lease (its store session ended, a rerun
took the lease over) may still be inside a write call, waiting for a request budget, a shared slot or a
``Retry-After``, and send the request again minutes later. So the sync engine makes each write call with a
:class:`WriteCheck` as the runner's before-send hook (:mod:`.._http._before_send`): before every attempt of a
write, after every wait, the check renews the lease and re-stamps the call's intents with now, in ONE store
statement (:func:`~.store._leased.restamp_leased`), the stamp only if the lease is still ours. If it is not,
the attempt is not sent: LeaseLostError, the intents left pending for the next run to settle.

Why that is sound. The taker's takeover and the stamp are two atomic store writes, so one comes first:

- stamp, then takeover: the taker reads the pending intents under its lease, after the takeover, so it sees
  the stamp, and waits a window from it; the attempt leaves right after the stamp (the grace covers that
  moment) and lands within the request bound, inside the window;
- takeover, then stamp: the stamp's renewal finds the lease gone and stamps nothing; the attempt is refused.

So "every attempt leaves within :data:`FRESH` of a stamp of its intents made while the lease was ours" holds,
and with it "every attempt lands within the window of its intents' latest stamp", for a live writer too.

What it costs. The same argument vouches for any attempt that leaves within :data:`FRESH` seconds of such a
stamp, whether or not the lease is still ours at the send: a taker after that stamp reads it and waits. So the
check only asks the store when the call's last stamp is older than that: the first attempt of a write sent
right after the statement that recorded its intents (it renewed the lease and stamped them) costs nothing;
one sent after a wait (a budget, a slot, a retry's backoff: all longer than that, or they would not matter)
costs one statement. :data:`FRESH` is half the settle grace: the other half stays for clock skew, as before.
The time is read before the statement, so a slow statement eats into the freshness, never extends it; and
the attempt leaves right after the statement returns, so a statement that returned later than :data:`FRESH`
after that time (a loaded store, a wait for the connection's lock) is made again before it does, up to
:data:`SLOW_TRIES` in all, after which the run stops as a lost lease does (a store that cannot vouch in time
cannot vouch at all). A lease this run already knows lost (its heartbeat failed, or a check found it
gone) sends nothing, fresh or not.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Final

from .._http._flow import Blocking
from .._http._request import RequestSpec
from ._settle import SETTLE_GRACE
from .lease import Lease
from .links import LinkStore
from .store._leased import restamp_leased

__all__ = ["FRESH", "SLOW_TRIES", "WriteCheck"]

#: Seconds after a stamp made under the lease during which an attempt leaves without asking the store again.
FRESH: Final = SETTLE_GRACE / 2
#: Statements in a row that may each return too late for the attempt they were made for, before the run stops.
SLOW_TRIES: Final = 3

#: The clock stamps are timed by (this process's; a module attribute so a test can replace it).
_clock: Callable[[], float] = time.monotonic


def stamp_time() -> float:
    """Now by the clock :class:`WriteCheck` times stamps with: read it before the statement that stamps."""
    return _clock()


class WriteCheck:
    """The before-send hook of one write call of a run: ``intents`` are the call's pending intents, stamped at
    ``stamped`` (:func:`stamp_time`, read before the statement that recorded them) under ``lease``. One per
    call: a call runs on one thread (or task), so its stamp needs no lock."""

    __slots__ = ("_lease", "_stamped", "_store", "intents")

    def __init__(self, lease: Lease, store: LinkStore, intents: Sequence[int], stamped: float) -> None:
        self._lease, self._store, self._stamped = lease, store, stamped
        self.intents = tuple(intents)

    def __call__(self, spec: RequestSpec) -> Blocking[None] | None:
        """Nothing to do while the last stamp is fresh; else the statement that renews and stamps, to make
        first. LeaseLostError at once when the lease is known lost."""
        if not self._lease.held:
            self._lease.ensure()  # known lost, or no longer held: raises without asking the store
        if _clock() - self._stamped < FRESH:
            return None
        return Blocking(self.confirm)

    def confirm(self) -> None:
        """Renew the lease and stamp the intents now, in one statement; LeaseLostError, nothing stamped, when
        the lease is no longer ours or the store cannot be asked (a store that cannot be reached cannot vouch
        for the lease, as the heartbeat judges too), or when :data:`SLOW_TRIES` statements each returned too
        late for the attempt about to leave. The lease is then recorded as lost: the heartbeat and every
        later write of the run agree."""
        lease = self._lease
        for _ in range(SLOW_TRIES):
            before = _clock()
            try:
                ours = restamp_leased(self._store, lease.pair_id, lease.owner, lease.ttl, self.intents)
            except Exception:
                lease.lose()  # raised from the store's error (its context)
            if not ours:
                lease.lose()
            self._stamped = before
            if _clock() - before < FRESH:  # the attempt leaves now: still within FRESH of this stamp
                return
        lease.lose(
            f"pair {lease.pair_id}: the link store took longer than {FRESH:g} s to confirm this run's lease "
            f"{SLOW_TRIES} times in a row, too late to vouch for the write about to be sent; stopped before it. "
            "Rerun the sync: what was written is linked or found by its sync key"
        )
