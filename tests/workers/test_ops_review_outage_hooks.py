"""The job manager's side-task hooks while the queue's database is away (``workers._outage``): each lets a
failed connection pass, so procrastinate's watch of its side tasks does not stop the worker, and still raises
what is not a connection failing (a bug must not be waited out)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import psycopg
import pytest
from procrastinate import exceptions as pq_errors
from procrastinate import manager as pq_manager
from procrastinate.jobs import Job, Status

from billing_milestones.workers import _outage
from billing_milestones.workers._outage import OutageJobManager, database_away


def _wrapped(cause: Exception) -> pq_errors.ConnectorException:
    try:
        raise pq_errors.ConnectorException() from cause
    except pq_errors.ConnectorException as exc:
        return exc


AWAY = psycopg.OperationalError("connection failed: Connection refused")
REFUSED = psycopg.errors.UndefinedFunction("function procrastinate_defer_periodic_job_v2 does not exist")


def manager() -> OutageJobManager:
    return OutageJobManager(connector=object(), liveness=object())  # type: ignore[arg-type]  # unused here


def job() -> Job:
    return Job(id=None, queue="test", lock=None, queueing_lock=None, task_name="t", task_kwargs={})


def test_a_connection_error_is_the_database_away_and_a_refused_statement_is_not() -> None:
    assert database_away(_wrapped(AWAY)) and database_away(_wrapped(psycopg.errors.AdminShutdown("terminating")))
    assert not database_away(_wrapped(REFUSED)) and not database_away(pq_errors.ConnectorException())


def test_a_tick_the_database_could_not_take_is_dropped_with_a_warning_not_raised(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Raised, it ended procrastinate's periodic deferrer, whose end stopped the worker."""

    async def defer(self: Any, job: Job, periodic_id: str, defer_timestamp: int) -> int | None:
        raise _wrapped(AWAY)

    monkeypatch.setattr(pq_manager.JobManager, "defer_periodic_job", defer)
    with caplog.at_level(logging.WARNING, "billing_milestones.workers"):
        assert asyncio.run(manager().defer_periodic_job(job(), "erp", 1_800_000_000)) is None
    (record,) = [r for r in caplog.records if getattr(r, "bm_event", None) == "tick_dropped"]
    assert "schedule 'erp'" in record.getMessage() and "Connection refused" in record.getMessage()


def test_a_heartbeat_the_database_could_not_take_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    async def beat(self: Any, worker_id: int) -> None:
        raise _wrapped(AWAY)

    monkeypatch.setattr(pq_manager.JobManager, "update_heartbeat", beat)
    asyncio.run(manager().update_heartbeat(7))


@pytest.mark.parametrize("hook", ["defer", "beat", "listen"])
def test_a_statement_the_database_refused_is_raised(monkeypatch: pytest.MonkeyPatch, hook: str) -> None:
    async def fail(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise _wrapped(REFUSED)

    for name in ("defer_periodic_job", "update_heartbeat", "listen_for_jobs"):
        monkeypatch.setattr(pq_manager.JobManager, name, fail)
    calls = {
        "defer": lambda m: m.defer_periodic_job(job(), "erp", 1),
        "beat": lambda m: m.update_heartbeat(7),
        "listen": lambda m: m.listen_for_jobs(on_notification=None, queues=["test"]),
    }
    with pytest.raises(pq_errors.ConnectorException):
        asyncio.run(calls[hook](manager()))


def test_the_listener_tries_again_while_the_database_refuses_it_and_says_so_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    tries: list[int] = []

    async def listen(self: Any, **kwargs: Any) -> None:
        tries.append(1)
        if len(tries) < 4:
            raise _wrapped(AWAY)
        raise asyncio.CancelledError  # back and listening, until the worker stops: cancelled

    monkeypatch.setattr(pq_manager.JobManager, "listen_for_jobs", listen)
    monkeypatch.setattr(_outage, "LISTEN_RETRY", 0.01)
    with caplog.at_level(logging.WARNING, "billing_milestones.workers"), pytest.raises(asyncio.CancelledError):
        asyncio.run(manager().listen_for_jobs(on_notification=None, queues=["test"]))
    assert len(tries) == 4
    lost = [r for r in caplog.records if getattr(r, "bm_event", None) == "listen_lost"]
    assert len(lost) == 1 and "Connection refused" in lost[0].getMessage()


def test_a_jobs_end_is_recorded_again_until_the_database_takes_it_and_said_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """procrastinate tried once: an end lost to the outage left the job ``doing`` while its worker lived."""
    from billing_milestones.workers._liveness import LivenessJobManager

    tries: list[str] = []

    async def finish(self: Any, job: Job, status: Any, delete_job: bool) -> None:
        tries.append("finish")
        if len(tries) < 3:
            raise _wrapped(AWAY)

    async def retry(self: Any, job: Job, *args: Any) -> None:
        tries.append("retry")
        if len(tries) < 5:
            raise _wrapped(AWAY)

    monkeypatch.setattr(LivenessJobManager, "finish_job", finish)
    monkeypatch.setattr(LivenessJobManager, "retry_job", retry)
    monkeypatch.setattr(_outage, "RECORD_RETRY", 0.01)
    with caplog.at_level(logging.INFO, "billing_milestones.workers"):
        asyncio.run(manager().finish_job(job(), Status.FAILED, False))
        asyncio.run(manager().retry_job(job()))
    assert tries == ["finish"] * 3 + ["retry"] * 2
    events = [getattr(r, "bm_event", None) for r in caplog.records]
    assert events.count("job_end_waits") == 2 and events.count("job_end_recorded") == 2


@pytest.mark.parametrize("name", ["finish_job", "retry_job"])
def test_a_jobs_end_the_database_refused_is_raised_at_once(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    from billing_milestones.workers._liveness import LivenessJobManager

    tries: list[int] = []

    async def refuse(self: Any, *args: Any) -> None:
        tries.append(1)
        raise _wrapped(REFUSED)

    monkeypatch.setattr(LivenessJobManager, name, refuse)
    call = manager().finish_job(job(), Status.FAILED, False) if name == "finish_job" else manager().retry_job(job())
    with pytest.raises(pq_errors.ConnectorException):
        asyncio.run(call)
    assert tries == [1]


def test_a_fetch_the_database_could_not_answer_finds_no_job(monkeypatch: pytest.MonkeyPatch) -> None:
    """Raised, it ended procrastinate's fetch loop and the worker: one begun just before the worker saw its lock
    lost waited the pool's 30 s and failed (PoolTimeout), in an outage the worker was meant to wait out."""
    from psycopg_pool import PoolTimeout

    from billing_milestones.workers._liveness import Liveness

    monkeypatch.setattr(pq_manager.JobManager, "fetch_job", lambda *a: _raise(PoolTimeout("couldn't get a connection")))
    jobs = OutageJobManager(connector=object(), liveness=Liveness("postgresql://unused"))
    assert asyncio.run(jobs.fetch_job(["test"], 7)) is None
    # Sent, then cut: it may have taken a job, which a worker living on would leave doing; and a refusal is a bug.
    for cause in (psycopg.errors.AdminShutdown("terminating connection"), REFUSED):
        monkeypatch.setattr(pq_manager.JobManager, "fetch_job", lambda *a, cause=cause: _raise(cause))
        with pytest.raises(pq_errors.ConnectorException):
            asyncio.run(jobs.fetch_job(["test"], 7))


async def _raise(cause: Exception) -> None:
    raise _wrapped(cause)
