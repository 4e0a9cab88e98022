"""When a failed pair run is tried again: procrastinate's linear backoff (``retry_wait`` x attempts), but never
sooner than the platform, or a budget every worker shares, said a request could go.

A run refused by Autotask's hourly budget (``BudgetExhaustedError``: not sent, the tenant's hour spent) or
throttled by a 429 knows when to try again (``retry_after``). Retried on the backoff alone, with the defaults
(5 retries, 30 s apart, growing) every attempt of a pair whose tenant spent its hour was refused again within
~7.5 minutes and the job ended failed, its budget still spent; the attempts went where they could not help.
So the retry waits for the later of the two. The hint is bounded by :data:`MAX_HINT` (an hour: the budget's
window; a server's ``Retry-After`` beyond it is not trusted further), and the number of retries is unchanged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

import procrastinate
from procrastinate.retry import RetryDecision

from .. import errors
from ._run import PairRunIncomplete

__all__ = ["MAX_HINT", "PairRetry", "retry_hint"]

#: The longest wait a hint may impose on a retry (seconds).
MAX_HINT: Final = 3600.0


def retry_hint(exception: BaseException) -> float | None:
    """Seconds until a retry could go, as the failure says: a 429's or a shared budget's ``retry_after``, or
    the longest of a run's throttled writes' (:class:`PairRunIncomplete`); None when nothing said (NaN and
    non-positive hints say nothing). Bounded by :data:`MAX_HINT`."""
    if not isinstance(exception, errors.RateLimitError | PairRunIncomplete):
        return None
    hint = exception.retry_after
    if hint is None or not hint > 0:
        return None
    return min(float(hint), MAX_HINT)


class PairRetry(procrastinate.RetryStrategy):
    """:class:`procrastinate.RetryStrategy` whose retry is never sooner than :func:`retry_hint`."""

    def get_retry_decision(self, *, exception: BaseException, job: Any) -> RetryDecision | None:
        decision = super().get_retry_decision(exception=exception, job=job)
        hint = retry_hint(exception)
        if decision is None or hint is None:
            return decision
        hinted = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=hint)
        if decision.retry_at is not None and decision.retry_at >= hinted:
            return decision
        return RetryDecision(retry_at=hinted, priority=decision.priority, queue=decision.queue, lock=decision.lock)
