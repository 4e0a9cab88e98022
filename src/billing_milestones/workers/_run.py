"""One run of one configured pair, as a worker does it: connect, take the pair's lease, plan, apply.

The same steps as ``milestones sync PAIR --yes``, without a terminal: the lease is taken before the
listings are read and held until the last write is recorded, so a job retried while its first attempt is
somehow still alive waits or fails with PairBusyError (and is retried later) instead of writing twice.
A run whose writes failed (a platform that is down) raises :class:`PairRunIncomplete` so the queue retries
the job with backoff; the intents and the sync keys on the target make the rerun safe. A run whose every
failed write the platform refused for the milestone itself, or for the API user's rights, raises
:class:`PairRunRefused` instead, and the job fails at once: its rerun would send the same writes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, ExitStack
from typing import Any, Final

import psycopg

from .. import errors
from ..model import Platform
from ..sync import apply_plan, load_sides, plan_sync, settle_pending
from ..sync.apply import ActionResult
from ..sync.config import Settings
from ..sync.connect import connect, expect_first_sync, remember_draft, resolve_container
from ..sync.runs import clipped, leased_run
from ..sync.store import LinkStore
from ._timing import PhaseClock

__all__ = ["CHANGED_UNDER_THE_RUN", "REFUSED", "TRANSIENT", "PairRunIncomplete", "PairRunRefused", "run_pair"]


class PairRunIncomplete(errors.SyncError):
    """Some writes of a run failed: the job is retried with backoff, up to its last attempt, and not before
    ``retry_after`` seconds when a failed write was throttled and said when to try again (``_retry``)."""

    def __init__(self, message: str, *, pair_id: str, retry_after: float | None = None) -> None:
        super().__init__(message, pair_id=pair_id)
        self.retry_after = retry_after


class PairRunRefused(errors.SyncError):
    """Every failed write of a run was refused for what it sent (:data:`REFUSED`): the job fails now rather
    than being retried, since a rerun plans the same writes from the same milestones and is refused again.
    The run's other writes are linked, its history row says why, and a scheduled pair runs again at its
    next period (after the milestones or the API user's rights are mended, it goes through)."""


#: Failures a rerun would meet again, each an answer that the platform stored nothing: it refused the request
#: for what it said (400, or a field it rejects: 422), for who sent it (401, 403), or the client knows it does
#: not allow it at all (not sent). Not among them:
#:
#: * 404 and 409, and an invoiced Kantata milestone (:data:`CHANGED_UNDER_THE_RUN`): the target changed under
#:   the run; the rerun lists it again and plans anew (an invoiced milestone lists as locked, left alone).
#: * Our own checks (ValidationError, TranslationError): the write's call raises them while reading a reply
#:   too, after a write that landed; the rerun finds that by its sync key and links it.
#: * Throttles, 5xx (Autotask also answers business-rule failures with a 500, but a 500 is first of all a
#:   platform that is down), and a failure known only by its text.
REFUSED: Final[tuple[type[errors.BillingMilestonesError], ...]] = (
    errors.BadRequestError,
    errors.AuthenticationError,
    errors.PermissionDeniedError,
    errors.UnprocessableEntityError,
    errors.UnsupportedOperationError,
)
#: Refusals among :data:`REFUSED`'s that say the target changed since it was listed: Kantata refuses an edit
#: of a milestone invoiced after the listing (a 422, or the client's own refusal after its fresh read).
CHANGED_UNDER_THE_RUN: Final[tuple[type[errors.BillingMilestonesError], ...]] = (errors.MilestoneInvoicedError,)


def refused(failure: ActionResult) -> bool:
    """Whether a rerun would send this failed write again and be refused again (:data:`REFUSED`)."""
    cause = failure.cause
    return isinstance(cause, REFUSED) and not isinstance(cause, CHANGED_UNDER_THE_RUN)


#: Failures worth another attempt later: the platform or the network was down, busy, or another run held
#: the pair. Configuration and validation errors are not: a retry would fail the same way.
TRANSIENT: tuple[type[Exception], ...] = (
    errors.APIConnectionError,
    errors.InternalServerError,
    errors.RateLimitError,
    errors.PairBusyError,  # and PendingWritesError: a stopped run's writes settle later than this run waits
    errors.LeaseLostError,
    errors.StalePlanError,
    PairRunIncomplete,
    # The link store's session ended (a server restart, a network cut, the session terminated): the rerun
    # opens a new one, and closes this run's history row if its end could not be written (sync/runs.py).
    psycopg.OperationalError,
)


#: The most of a failed write's text a job's error quotes, its note of what was left out included. The
#: platform writes that text (a validation message can carry a whole payload), and the queue logs the job's
#: error at every failed attempt; the run's history row keeps more (``sync.runs.ERROR_LIMIT``), the result's
#: failures all of it.
FIRST_FAILURE_LIMIT: Final = 500


def run_pair(
    settings: Settings,
    name: str,
    *,
    lease_wait: float | None = None,
    connector: Callable[[Platform, Settings], Any] = connect,
    stores: Callable[[], AbstractContextManager[LinkStore]] | None = None,
) -> dict[str, Any]:
    """Sync the configured pair ``name`` once; the applied result as JSON (what a job returns).

    ``connector`` builds each platform's client (a worker's gives Autotask the budgets all workers share);
    ``stores`` lends the link store for the run (a worker's reuses its connections; default: one opened for
    the run and closed after it)."""
    spec = settings.pair(name)
    clock = PhaseClock(name)
    ok = False
    try:
        with ExitStack() as stack:
            with clock.phase("connect"):
                source_client = stack.enter_context(connector(spec.source[0], settings))
                target_client = (
                    source_client
                    if spec.target[0] is spec.source[0]
                    else stack.enter_context(connector(spec.target[0], settings))
                )
            with clock.phase("store"):
                store = stack.enter_context(stores() if stores is not None else LinkStore(settings.links))
            with clock.phase("resolve"):
                pair = spec.pair(
                    source_container=resolve_container(source_client, spec.source[0], spec.source[1], settings, store),
                    target_container=resolve_container(target_client, spec.target[0], spec.target[1], settings, store),
                )
                clock.pair_id = pair.identity
            wait = spec.lease_wait if lease_wait is None else lease_wait
            with clock.phase("lease"):
                lease = stack.enter_context(store.lease(pair.identity, wait=wait))
                stack.enter_context(leased_run(store, pair.identity, lease))  # its row, before it lists
                # A stopped run's writes may still land: the target is listed once they would have.
                settle_pending(store, pair.id, window=spec.write_settle, lease=lease)
            clients = {spec.source[0]: source_client, spec.target[0]: target_client}
            with clock.phase("load"):
                expect_first_sync(pair, clients, store)
                source, target = load_sides(pair, clients, parallel=True)
            with clock.phase("plan"):
                plan = plan_sync(pair, source, target, store, policy=spec.policy)
            with clock.phase("apply"):
                result = apply_plan(plan, clients, store, lease=lease, write_settle=spec.write_settle)
            with clock.phase("remember"):
                if plan.has_changes:
                    remember_draft(target_client, spec.target[0], spec.target[1], pair.target_container, store)
            with clock.phase("close"):
                stack.close()  # the clients and the store, timed too
        ok = not result.failures
    finally:
        clock.log(ok=ok)
    if result.failures:
        raise failed_run(name, result.failures)
    return result.to_json()


def failed_run(name: str, failures: Sequence[ActionResult]) -> errors.SyncError:
    """What a run whose writes failed raises: :class:`PairRunRefused` when the platform refused every one
    of them for what it sent (:data:`REFUSED`), else :class:`PairRunIncomplete`. One failure a rerun may
    mend (a 503, a lost answer) is worth the retries: the refused ones are refused again meanwhile, and a
    write that keeps failing fails the job after the last attempt."""
    first = clipped(str(failures[0].error), FIRST_FAILURE_LIMIT)
    if all(refused(failure) for failure in failures):
        return PairRunRefused(
            f"pair {name}: {len(failures)} write(s) refused for what they sent (first: {first}); not retried, "
            "since a rerun would send them again: mend the milestones or the API user's rights",
            pair_id=name,
        )
    hints = [
        f.cause.retry_after
        for f in failures
        if isinstance(f.cause, errors.RateLimitError) and f.cause.retry_after is not None and f.cause.retry_after > 0
    ]  # a NaN or non-positive hint says nothing (and a NaN first in max() would hide the others)
    return PairRunIncomplete(
        f"pair {name}: {len(failures)} write(s) failed (first: {first}); the job is retried",
        pair_id=name,
        retry_after=max(hints) if hints else None,
    )
