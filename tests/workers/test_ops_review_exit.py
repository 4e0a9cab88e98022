"""How ``milestones worker`` ends when its queue's database went away while it ran: procrastinate wraps the
driver's error in its own ``ConnectorException`` (a fetch of a job, the unregistering at its stop), which the
command let through as a traceback and exit 1 where it says an unreachable database at its start (exit 2, the
password masked). A supervisor restarts it either way; the message is what the on-call engineer reads."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from procrastinate.exceptions import ConnectorException
from typer.testing import CliRunner

import billing_milestones.workers
from billing_milestones.cli import EXIT_USAGE, app


def _worker_raising(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException) -> tuple[int, str, object]:
    config = tmp_path / "milestones.toml"
    config.write_text('links = "postgresql://bm:s3cret@127.0.0.1:1/bm"\n')

    def run(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr("gc.freeze", lambda: None)
    monkeypatch.setattr(billing_milestones.workers, "WorkerApp", lambda settings, stalled_after: object())
    monkeypatch.setattr(billing_milestones.workers, "run_worker", run)
    result = CliRunner().invoke(app, ["worker", "--config", str(config)], env={"COLUMNS": "200"})
    return result.exit_code, result.output, result.exception


def _wrapped(cause: Exception) -> ConnectorException:
    try:
        raise ConnectorException() from cause
    except ConnectorException as exc:
        return exc


def test_a_database_lost_while_the_worker_ran_is_said_as_unreachable_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lost = _wrapped(psycopg.OperationalError('connection to server at "127.0.0.1", port 1 failed: Connection refused'))
    code, out, exc = _worker_raising(tmp_path, monkeypatch, lost)
    assert code == EXIT_USAGE and isinstance(exc, SystemExit), exc
    assert "the queue's database postgresql://bm:***@127.0.0.1:1/bm cannot be reached (OperationalError" in out
    assert "Connection refused" in out and "s3cret" not in out and "Traceback" not in out


def test_a_statement_procrastinate_refused_is_not_taken_for_an_unreachable_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug (a query the server refused) is not hidden behind "check that the server is up"."""
    refused = _wrapped(psycopg.errors.UndefinedTable('relation "procrastinate_jobs" does not exist'))
    code, out, exc = _worker_raising(tmp_path, monkeypatch, refused)
    assert code != EXIT_USAGE and isinstance(exc, ConnectorException)
    assert "cannot be reached" not in out
