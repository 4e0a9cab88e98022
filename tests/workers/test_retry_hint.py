"""A pair run refused by a budget every worker shares, or throttled, is retried no sooner than the refusal
said a request could go (``workers._retry``): on the backoff alone, a tenant whose hour was spent had its
job's every retry refused again within minutes, and the job ended failed with its budget still spent."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, cast

import psycopg
import pytest
from procrastinate import jobs as pq_jobs

from billing_milestones import errors
from billing_milestones.sync import ActionResult
from billing_milestones.workers import SYNC_TASK, WorkerApp, enqueue_pairs, run_worker
from billing_milestones.workers._retry import MAX_HINT, PairRetry, retry_hint
from billing_milestones.workers._run import PairRunIncomplete, failed_run

from .conftest import Deployment
from .test_worker import jobs

_STRATEGY = PairRetry(
    max_attempts=3, wait=1, linear_wait=1, retry_exceptions=(errors.RateLimitError, PairRunIncomplete)
)


def _job(attempts: int) -> pq_jobs.Job:
    return pq_jobs.Job(id=1, queue="test", lock=None, queueing_lock=None, task_name=SYNC_TASK, attempts=attempts)


def _spent(retry_after: float | None) -> errors.BudgetExhaustedError:
    return errors.BudgetExhaustedError(
        "client-side hourly budget of 1 requests exhausted",
        retry_after=retry_after,
        platform="autotask",
        method="POST",
        path="/ContractMilestones/query",
    )


def _wait(exc: BaseException, attempts: int = 0) -> float | None:
    now = dt.datetime.now(dt.UTC)
    decision = _STRATEGY.get_retry_decision(exception=exc, job=_job(attempts))
    if decision is None:
        return None
    assert decision.retry_at is not None
    return round((decision.retry_at - now).total_seconds())


def test_a_retry_waits_for_the_refusals_hint_when_it_is_later_than_the_backoff() -> None:
    assert _wait(_spent(600.0)) == 600
    assert _wait(_spent(0.5), attempts=2) == 3  # the backoff (1 + 1 x 2) is later: kept
    assert _wait(_spent(None), attempts=1) == 2  # nothing said: the backoff
    assert _wait(_spent(99_999.0)) == MAX_HINT  # bounded
    assert _wait(_spent(600.0), attempts=3) is None  # the retries are not lengthened by a hint
    assert _wait(errors.ConfigError("pairs.erp: gone", key="pairs")) is None  # not retried at all


@pytest.mark.parametrize("hint", [float("nan"), -5.0, 0.0])
def test_a_hint_that_says_nothing_leaves_the_backoff(hint: float) -> None:
    assert retry_hint(_spent(hint)) is None
    assert _wait(_spent(hint)) == 1


def _failure(cause: errors.BillingMilestonesError) -> ActionResult:
    return ActionResult(cast(Any, None), ok=False, error=str(cause), cause=cause)


def test_a_run_whose_writes_were_throttled_carries_the_longest_hint() -> None:
    down = errors.InternalServerError("down", platform="kantata", method="POST", path="/x", status_code=503)
    throttled = errors.RateLimitError("slow down", retry_after=120.0, platform="kantata", method="POST", path="/x")
    run = failed_run("erp", [_failure(down), _failure(throttled), _failure(_spent(45.0))])
    assert isinstance(run, PairRunIncomplete) and run.retry_after == 120.0
    assert _wait(run) == 120
    nan = errors.RateLimitError("?", retry_after=float("nan"), platform="kantata", method="POST", path="/x")
    mixed = failed_run("erp", [_failure(nan), _failure(throttled)])
    assert isinstance(mixed, PairRunIncomplete) and mixed.retry_after == 120.0
    unhinted = failed_run("erp", [_failure(down)])
    assert isinstance(unhinted, PairRunIncomplete) and unhinted.retry_after is None and _wait(unhinted) == 1


def test_a_worker_retries_a_pair_whose_tenants_hour_is_spent_when_the_budget_frees(deployment: Deployment) -> None:
    """With an hourly budget of one request, the pair's second Autotask request is refused unsent: the job's
    retry is due when the budget's oldest request leaves the hour, not ``retry_wait`` (1 s) later."""
    settings = deployment.settings()
    workers = dataclasses.replace(WorkerApp(settings).workers, autotask_hourly_budget=1)
    worker = WorkerApp(settings, workers)
    assert isinstance(worker.sync_task.retry_strategy, PairRetry)
    enqueue_pairs(settings, ["erp"])
    run_worker(worker, burst=True, install_signal_handlers=False, heartbeat=1.0)
    (job,) = jobs(deployment.links)
    assert (job["status"], job["attempts"]) == ("todo", 1) and job["later"]
    with psycopg.connect(deployment.links) as conn:
        row = conn.execute("SELECT extract(epoch FROM scheduled_at - now()) FROM procrastinate_jobs").fetchone()
    assert row is not None and float(row[0]) > 3000  # ~an hour: when the budget's one request leaves it
