"""A failed pair run is retried exactly ``[workers] retries`` times, waiting ``retry_wait x n`` before the n-th
retry (docs/scale.md, Retries): procrastinate's ``max_attempts`` counts retries, not attempts."""

from __future__ import annotations

import dataclasses
import datetime as dt

import psycopg
import psycopg_pool
from procrastinate import jobs as pq_jobs

from billing_milestones import errors
from billing_milestones.errors import ConfigError
from billing_milestones.sync import LinkStore
from billing_milestones.workers import SYNC_TASK, WorkerApp, enqueue_pairs, run_worker
from billing_milestones.workers._run import PairRunIncomplete, PairRunRefused

from .conftest import Deployment
from .test_worker import jobs


def _job(attempts: int) -> pq_jobs.Job:
    return pq_jobs.Job(id=1, queue="test", lock=None, queueing_lock=None, task_name=SYNC_TASK, attempts=attempts)


def _waits(worker: WorkerApp, exc: BaseException) -> list[float | None]:
    """The wait before each retry, attempt by attempt (None: failed for good), over the first eight attempts."""
    strategy = worker.sync_task.retry_strategy
    if strategy is None:  # no retries at all
        return [None] * 8
    now = dt.datetime.now(dt.UTC)
    out: list[float | None] = []
    for attempts in range(8):
        decision = strategy.get_retry_decision(exception=exc, job=_job(attempts))
        if decision is None:
            out.append(None)
            continue
        assert decision.retry_at is not None
        out.append(round((decision.retry_at - now).total_seconds()))
    return out


def test_retries_are_the_configured_count_with_growing_waits(deployment: Deployment) -> None:
    settings = deployment.settings()
    incomplete = PairRunIncomplete("pair erp: 1 write(s) failed", pair_id="erp")
    for retries, wait in ((3, 1), (2, 30), (0, 30)):
        workers = dataclasses.replace(WorkerApp(settings).workers, retries=retries, retry_wait=wait)
        waits = _waits(WorkerApp(settings, workers), incomplete)
        assert waits == [wait * n for n in range(1, retries + 1)] + [None] * (8 - retries), (retries, waits)
    # A permanent error is not retried at all.
    assert _waits(WorkerApp(settings), ConfigError("pairs.erp: gone", key="pairs"))[0] is None


def test_retries_zero_fails_the_job_after_its_one_attempt(deployment: Deployment) -> None:
    # The run waits a tenth of a second for the pair's lease, which this test holds: PairBusyError, transient.
    deployment.config.write_text(
        deployment.config.read_text().replace("write_settle = 2", "write_settle = 2\nlease_wait = 0.1")
    )
    settings = deployment.settings()
    world = deployment.world
    worker = WorkerApp(settings, dataclasses.replace(WorkerApp(settings).workers, retries=0))
    enqueue_pairs(settings, ["erp"])
    with (
        LinkStore(deployment.links) as store,
        store.lease(f"autotask:{world.contract_id}->kantata:{world.erp_workspace}", wait=0),
    ):
        run_worker(worker, burst=True, install_signal_handlers=False, heartbeat=1.0)
    (job,) = jobs(deployment.links)
    assert (job["status"], job["attempts"]) == ("failed", 1)  # its one run, counted as it finished


def _api(cls: type[errors.APIError], status: int | None = None) -> errors.APIError:
    return cls("refused", platform="autotask", method="POST", path="/V1.0/ContractMilestones", status_code=status)


#: What a job run can raise, and whether docs/scale.md (Retries) has it retried.
_CLASSIFIED: list[tuple[BaseException, bool]] = [
    (_api(errors.AuthenticationError, 401), False),
    (_api(errors.PermissionDeniedError, 403), False),
    (_api(errors.NotFoundError, 404), False),
    (_api(errors.UnprocessableEntityError, 422), False),
    (_api(errors.APIResponseValidationError), False),  # bad data on the wire
    (errors.ValidationError("amount: not a number", field="amount"), False),
    (errors.ConfigError("pairs.erp: no such pair", key="pairs.erp"), False),
    (_api(errors.InternalServerError, 503), True),
    (PairRunIncomplete("pair erp: 1 write(s) failed", pair_id="erp"), True),
    (PairRunRefused("pair erp: 1 write(s) refused for what they sent", pair_id="erp"), False),
    (_api(errors.APITimeoutError), True),
    (_api(errors.APIConnectionError), True),
    (_api(errors.RateLimitError, 429), True),
    (_api(errors.BudgetExhaustedError), True),
    (errors.PairBusyError("busy", pair_id="erp", owner="w", expires_at="later"), True),
    (errors.PendingWritesError("pending", pair_id="erp", pending=1, settles_at="later"), True),
    (errors.LeaseLostError("lost", pair_id="erp"), True),
    (psycopg.OperationalError("server closed the connection unexpectedly"), True),
    (psycopg.errors.AdminShutdown("terminating connection due to administrator command"), True),
    (psycopg_pool.PoolTimeout("couldn't get a connection after 30 s"), True),
    (psycopg.errors.UniqueViolation("duplicate key"), False),  # a bug, not an outage
    (KeyboardInterrupt(), False),
    (SystemExit(1), False),
    (TypeError("an unexpected bug"), False),
]


def test_what_a_job_run_raises_is_retried_as_documented(deployment: Deployment) -> None:
    worker = WorkerApp(deployment.settings())
    wrong = [
        (type(exc).__name__, retried) for exc, retried in _CLASSIFIED if (_waits(worker, exc)[0] is not None) != retried
    ]
    assert wrong == []
