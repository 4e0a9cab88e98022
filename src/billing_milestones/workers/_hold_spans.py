"""How long a slot stays taken after its holder is gone: the holder's whole timeout, or less once its process
has seen how long its holds take.

A slot's lease (``busy_until``) is read only when its holder's connection is gone: a live holder keeps its
slot past it. The lease stands in for the holder's request, which Autotask may still be serving after its
worker was killed. The whole timeout (96 s with the clients' default) bounds how long the holder would have
waited, not how long Autotask takes, and a crash then blocked each slot it held for that long: one third of a
tenant's Autotask requests per slot, all of them when the dead worker held all three (a scale run took 102 s
instead of 5 that way).

So a process that has finished :data:`SEEN` holds of a key (an endpoint: a slot guards one endpoint's
request) stamps its next holds of that key with a shorter lease: a second's grace plus :data:`FACTOR` times
the longest of the key's last :data:`KEPT` holds and of the process's last KEPT holds of any key, never more
than the whole lease. A killed worker's request, sent when its holds took ~100 ms, is long over when its slot
frees ~1.5 s after it was taken. A slow spell (a hold of 20 s, of any key) lengthens the next leases up to the
whole one at once; the first holds of a key, with nothing seen of it, get the whole one. Why the key's own
holds: one limiter serves every endpoint of a tenant, and a slow endpoint's holds (a listing's pages) were
pushed out of the latest 64 by a quick one's, so its next hold was stamped with the quick one's lease.

What it trades: a dead holder's request that Autotask serves for more than FACTOR times the longest recent
hold, or a live holder whose database connection was cut while its request ran that long, may overlap a
request sent through the freed slot. Autotask refuses that fourth request (429 or its thread-threshold
error), and the clients retry it: a refusal, never a write made twice, against a third of the tenant's
Autotask capacity lost for the whole timeout on every crash.
"""

from __future__ import annotations

import collections
import threading
from typing import Final

__all__ = ["FACTOR", "KEPT", "SEEN", "HoldSpans"]

#: A shortened lease is the grace plus this many times the longest recent hold.
FACTOR: Final = 4.0
#: How many of the latest holds the longest is taken over.
KEPT: Final = 64
#: Holds a process must have finished before it shortens a lease: fewer say too little of the tail.
SEEN: Final = 8


class HoldSpans:
    """The latest holds' lengths of one limiter, of each key and of all, and the lease a key's next hold is
    stamped with (thread-safe: a worker's jobs hold slots from several threads)."""

    __slots__ = ("_grace", "_keys", "_lock", "_spans", "lease")

    def __init__(self, lease: float, grace: float) -> None:
        #: The whole lease: the clients' timeout bound plus the grace.
        self.lease = lease
        self._grace = grace
        #: The latest holds of any key.
        self._spans: collections.deque[float] = collections.deque(maxlen=KEPT)
        #: The latest holds of each key (a tenant's endpoints: a few dozen at most).
        self._keys: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def record(self, seconds: float, key: str = "") -> None:
        """A hold of ``key`` ended after ``seconds`` (from its take to its release, failed requests too)."""
        span = max(0.0, seconds)
        with self._lock:
            self._spans.append(span)
            own = self._keys.get(key)
            if own is None:
                own = self._keys[key] = collections.deque(maxlen=KEPT)
            own.append(span)

    def lease_now(self, key: str = "") -> float:
        """The lease of ``key``'s next hold: the whole lease until :data:`SEEN` holds of it have ended, then
        the grace plus :data:`FACTOR` times the longest of its latest :data:`KEPT` and of the latest KEPT of
        any key, at most the whole lease."""
        with self._lock:
            own = self._keys.get(key)
            if own is None or len(own) < SEEN:
                return self.lease
            longest = max(max(own), max(self._spans))
        return min(self.lease, self._grace + FACTOR * longest)
