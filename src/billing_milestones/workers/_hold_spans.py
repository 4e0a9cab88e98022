"""How long a slot stays taken after its holder is gone: the holder's whole timeout, or less once its process
has seen how long its holds take.

A slot's lease (``busy_until``) is read only when its holder's connection is gone: a live holder keeps its
slot past it. The lease stands in for the holder's request, which Autotask may still be serving after its
worker was killed. The whole timeout (96 s with the clients' default) bounds how long the holder would have
waited, not how long Autotask takes, and a crash then blocked each slot it held for that long: one third of a
tenant's Autotask requests per slot, all of them when the dead worker held all three (a scale run took 102 s
instead of 5 that way).

So a process that has finished :data:`SEEN` holds stamps its next holds with a shorter lease: a second's
grace plus :data:`FACTOR` times the longest of its last :data:`KEPT` holds, never more than the whole lease.
A killed worker's request, sent when its holds took ~100 ms, is long over when its slot frees ~1.5 s after it
was taken. A slow spell (a hold of 20 s) lengthens the next leases up to the whole one at once; the first
holds of a process, with nothing seen, get the whole one.

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
    """The latest holds' lengths of one limiter, and the lease its next hold is stamped with (thread-safe:
    a worker's jobs hold slots from several threads)."""

    __slots__ = ("_grace", "_lock", "_spans", "lease")

    def __init__(self, lease: float, grace: float) -> None:
        #: The whole lease: the clients' timeout bound plus the grace.
        self.lease = lease
        self._grace = grace
        self._spans: collections.deque[float] = collections.deque(maxlen=KEPT)
        self._lock = threading.Lock()

    def record(self, seconds: float) -> None:
        """A hold ended after ``seconds`` (from its take to its release, failed requests too)."""
        with self._lock:
            self._spans.append(max(0.0, seconds))

    def lease_now(self) -> float:
        """The lease of the next hold: the whole lease until :data:`SEEN` holds have ended, then the grace
        plus :data:`FACTOR` times the longest of the latest :data:`KEPT`, at most the whole lease."""
        with self._lock:
            if len(self._spans) < SEEN:
                return self.lease
            longest = max(self._spans)
        return min(self.lease, self._grace + FACTOR * longest)
