"""Review of what ``milestones worker`` prints: no registered secret in any line of its log, whichever library
logged it, tracebacks included.

The package's own loggers scrub registered secrets (tokens, passwords, secrets, integration codes) from their
messages, and a run's history row and its ``sync_run`` line are scrubbed too. But the worker's log on stderr
is mostly other libraries': procrastinate logs every failed job with its traceback (the job's error and
every error chained to it, at each attempt), on a logger named after the worker, which no filter of a
logger of ours sees. A secret the history row masks was printed in the clear beside it."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

import billing_milestones.workers
import billing_milestones.workers._app
from billing_milestones._http import REDACTED, register_secret
from billing_milestones.cli import EXIT_OK, app

from .conftest import Deployment

SECRET = "tok-worker-log-4d2b7e"


class HookError(RuntimeError):
    """Not one of ours: a platform's errors are scrubbed when made, anything else a run raises is not."""


def test_a_failed_jobs_traceback_in_the_workers_log_has_no_registered_secret(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_secret(SECRET)

    def run_pair(*args: object, **kwargs: object) -> None:
        try:
            raise ValueError(f"the hook answered 401 for token={SECRET}")
        except ValueError as exc:
            raise HookError(f"notify https://hooks.example/x?token={SECRET} failed") from exc

    monkeypatch.setattr(billing_milestones.workers._app, "run_pair", run_pair)
    # The worker configures the log itself (logging.basicConfig), as in its own process: no handler before it.
    monkeypatch.setattr(logging.root, "handlers", [])
    monkeypatch.setattr(logging.root, "level", logging.WARNING)
    config = str(deployment.config)
    runner = CliRunner()
    assert runner.invoke(app, ["enqueue", "erp", "--config", config], env=deployment.env).exit_code == EXIT_OK
    result = runner.invoke(app, ["worker", "--burst", "--config", config], env={**deployment.env, "COLUMNS": "200"})
    assert result.exit_code == EXIT_OK, result.output
    assert "ended with status: Error" in result.output and "Traceback" in result.output  # procrastinate's line
    assert f"token={REDACTED}" in result.output and "HookError" in result.output
    assert SECRET not in result.output


def test_the_workers_log_has_no_query_string_of_an_http_request_below_debug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """httpx logs every request at INFO with its whole URL, query and all: Autotask's zone is asked by the API
    user's name (``zoneInformation?user=...``), which the package keeps out of its records and its stores.
    Each attempt's ``billing_milestones.metrics`` record (path only) says what httpx's line said."""
    user = "api-user-7c2f@tenant.example"

    def run_worker(*args: object, **kwargs: object) -> None:
        ok = httpx.MockTransport(lambda request: httpx.Response(200, json={}))
        with httpx.Client(transport=ok) as http:
            http.get("https://webservices.autotask.net/atservicesrest/v1.0/zoneInformation", params={"user": user})

    monkeypatch.setattr("gc.freeze", lambda: None)
    monkeypatch.setattr(billing_milestones.workers, "WorkerApp", lambda settings, stalled_after: object())
    monkeypatch.setattr(billing_milestones.workers, "run_worker", run_worker)
    monkeypatch.setattr(logging.root, "handlers", [])
    monkeypatch.setattr(logging.root, "level", logging.WARNING)
    monkeypatch.setattr(logging.getLogger("httpx"), "level", logging.NOTSET)
    config = tmp_path / "milestones.toml"
    config.write_text('links = "postgresql://bm@127.0.0.1:1/bm"\n')
    for level, shown in (("INFO", False), ("DEBUG", True)):
        args = ["worker", "--log-level", level, "--config", str(config)]
        result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
        assert result.exit_code == EXIT_OK, result.output
        assert ("api-user-7c2f" in result.output) is shown, result.output  # DEBUG: everything, as asked
        logging.root.handlers.clear()  # the next invocation configures the log as a new process would
        logging.getLogger("httpx").setLevel(logging.NOTSET)


def test_a_malformed_record_of_another_library_is_left_to_the_handler_not_raised_to_its_caller() -> None:
    """A filter that raised took the library's own call down with it (a worker's loop, for a bad format
    string in a dependency's log line); logging's handler reports such a record on stderr instead."""
    from billing_milestones.cli._log_scrub import ScrubRecords

    record = logging.LogRecord("procrastinate.worker", logging.INFO, __file__, 1, "%s and %s", ("one",), None)
    assert ScrubRecords().filter(record) is True
