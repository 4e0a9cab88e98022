"""A request budget every client consults before each attempt: ``request_budget=``, a hook a caller can replace.

A platform's rate limit counts requests per tenant, not per process (Kantata's requests per minute,
Autotask's requests per hour), so several worker processes need one budget among them. A budget is any
object with ``acquire() -> float | None``: None admits one attempt (it is counted), a number is the seconds
until a slot frees (nothing counted). The client then sleeps that long (its own sleep, so tests and asyncio
stay in control) and asks again; every attempt is charged (retries and pages, as the servers count them).

The waits are bounded, so a budget never hangs a call: one wait longer than the retry policy's
``max_retry_after`` (60 s by default), or waits adding up to more than its ``total_budget`` (120 s), end the
call with :class:`~billing_milestones.errors.BudgetExhaustedError` (a ``RequestNotSentError``: nothing was
sent). An async client awaits ``acquire()`` when it is a coroutine function (:class:`AsyncRequestBudget`)
and calls it in place otherwise, so an in-process budget serves both twins.

Autotask's older ``hourly_budget=`` stays what it was: charged on authenticated attempts only, and refusing at
once (its waits are up to an hour) instead of waiting; the two can be given together.
"""

from __future__ import annotations

import collections
import inspect
import math
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

from .. import errors
from .._checks import positive_int
from ._core import ClientCore
from ._request import RequestSpec

__all__ = ["AsyncRequestBudget", "SlidingWindowBudget", "SyncRequestBudget", "apace", "is_async_budget", "pace"]


@runtime_checkable
class SyncRequestBudget(Protocol):
    """What ``request_budget=`` takes: ``acquire()`` admits one attempt (None) or says how long to wait."""

    def acquire(self) -> float | None: ...


@runtime_checkable
class AsyncRequestBudget(Protocol):
    """An asyncio client's budget may also be awaitable: ``async def acquire() -> float | None``."""

    async def acquire(self) -> float | None: ...


def check_budget(budget: object, *, blocking: bool = False) -> SyncRequestBudget | AsyncRequestBudget | None:
    """``request_budget=`` is None or has a callable ``acquire`` (a plain one for a ``blocking`` client);
    anything else is refused by name, before any request."""
    if budget is None:
        return None
    if not callable(getattr(budget, "acquire", None)):
        expected = "an object with acquire() -> float | None"
    elif blocking and is_async_budget(budget):
        expected = "a blocking client's budget with a plain (not async) acquire()"
    else:
        return budget  # type: ignore[return-value]
    raise errors.ValidationError(
        f"request_budget: expected {expected}, got {type(budget).__name__}", field="request_budget"
    )


def is_async_budget(budget: object) -> bool:
    return inspect.iscoroutinefunction(getattr(budget, "acquire", None))


class SlidingWindowBudget:
    """An in-process budget: at most ``limit`` attempts in any ``window`` seconds, across this process's threads
    (and event loops). For one process; workers sharing a tenant need a shared budget (PostgreSQL's in
    ``billing_milestones.workers``)."""

    #: The option a bad limit or window is refused under (Autotask's ``HourlyBudget`` names its own).
    option = "request_budget"

    def __init__(self, limit: int, *, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        name = self.option
        positive_int(limit, name)
        if isinstance(window, bool) or not isinstance(window, int | float) or not 0 < window < float("inf"):
            raise errors.ValidationError(
                f"{name}: expected a positive window in seconds, got {window!r}", field=name, value=window
            )
        self.limit = limit
        self.window = float(window)
        self._clock = clock
        self._times: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def acquire(self) -> float | None:
        """Take a slot; None when admitted, else the seconds until the oldest attempt leaves the window."""
        with self._lock:
            now = self._clock()
            while self._times and now - self._times[0] >= self.window:
                self._times.popleft()
            if len(self._times) >= self.limit:
                return max(self.window - (now - self._times[0]), 0.001)
            self._times.append(now)
            return None

    @property
    def used(self) -> int:
        """Attempts admitted in the current window."""
        with self._lock:
            now = self._clock()
            return sum(1 for t in self._times if now - t < self.window)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(limit={self.limit}, window={self.window})"


#: The shortest wait slept between two asks of a budget (SlidingWindowBudget's own shortest answer).
_MIN_WAIT = 0.001


class _Waits:
    """The bounds on one attempt's waits (see the module docstring)."""

    __slots__ = ("core", "spec", "waited")

    def __init__(self, core: ClientCore, spec: RequestSpec) -> None:
        self.core, self.spec, self.waited = core, spec, 0.0

    def admit(self, wait: float) -> float:
        """``wait`` when it is within bounds (and counted), else raise BudgetExhaustedError."""
        retry = self.core.retry
        if not math.isfinite(wait) or wait > retry.max_retry_after or self.waited + wait > retry.total_budget:
            raise errors.BudgetExhaustedError(
                f"request budget: no slot for {wait:.1f}s (waited {self.waited:.1f}s; a call waits at most "
                f"{retry.max_retry_after:.0f}s at once and {retry.total_budget:.0f}s in all) (not sent)",
                retry_after=wait,
                platform=self.core.platform,
                method=self.spec.method,
                path=self.spec.path,
            )
        # A wait below the floor (0, negative, a rounding crumb) is slept as the floor and counted, so a budget
        # that never admits yet never says to wait still ends the call within total_budget, not spinning.
        wait = max(wait, _MIN_WAIT)
        self.waited += wait
        return wait


def pace(budget: Any, core: ClientCore, spec: RequestSpec, sleep: Callable[[float], None]) -> None:
    """Wait until ``budget`` admits one attempt (no budget: return at once)."""
    if budget is None:
        return
    waits: _Waits | None = None
    while (wait := budget.acquire()) is not None:
        waits = waits or _Waits(core, spec)
        sleep(waits.admit(float(wait)))


async def apace(
    budget: Any, core: ClientCore, spec: RequestSpec, sleep: Callable[[float], Awaitable[None]], awaited: bool
) -> None:
    """The awaitable :func:`pace`; ``awaited``: the budget's ``acquire`` is a coroutine function."""
    if budget is None:
        return
    waits: _Waits | None = None
    while (wait := (await budget.acquire()) if awaited else budget.acquire()) is not None:
        waits = waits or _Waits(core, spec)
        await sleep(waits.admit(float(wait)))
