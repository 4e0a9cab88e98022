"""``milestones enqueue`` and ``milestones worker`` through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import billing_milestones.workers
from billing_milestones.cli import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, app
from billing_milestones.sync import LinkStore
from billing_milestones.workers._liveness import WorkerFencedError

from .conftest import Deployment


def invoke(deployment: Deployment | None, *args: str) -> tuple[int, str]:
    env = {"COLUMNS": "200", **(deployment.env if deployment else {})}
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_enqueue_all_twice_queues_each_pair_once_and_a_burst_worker_runs_them(deployment: Deployment) -> None:
    config = str(deployment.config)
    code, out = invoke(deployment, "enqueue", "--all", "--json", "--config", config)
    queued = json.loads(out)["queued"]
    assert code == EXIT_OK and sorted(queued) == ["erp", "website"] and all(isinstance(j, int) for j in queued.values())
    code, out = invoke(deployment, "enqueue", "erp", "--config", config)
    assert code == EXIT_OK and "erp: already queued" in out
    code, out = invoke(deployment, "worker", "--burst", "--name", "cli-worker", "--config", config)
    assert code == EXIT_OK, out
    with LinkStore(deployment.links) as store:
        assert len(store.runs()) == 2 and all(r.ok for r in store.runs())


def test_enqueue_needs_pairs_or_all_but_not_both(deployment: Deployment) -> None:
    config = str(deployment.config)
    assert invoke(deployment, "enqueue", "--config", config)[0] == EXIT_USAGE
    code, out = invoke(deployment, "enqueue", "erp", "--all", "--config", config)
    assert code == EXIT_USAGE and "not both" in out
    code, out = invoke(deployment, "enqueue", "nope", "--config", config)
    assert code == EXIT_USAGE and "pairs.nope" in out


def test_a_worker_on_a_sqlite_store_is_a_usage_error(tmp_path: Path) -> None:
    config = tmp_path / "milestones.toml"
    config.write_text('links = "local.sqlite3"\n')
    code, out = invoke(None, "worker", "--burst", "--config", str(config))
    assert code == EXIT_USAGE and "postgresql://" in out


def test_the_worker_process_freezes_what_it_has_built_before_it_runs_jobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's process moves what lives as long as it out of the collector's sight before the first job
    (gc.freeze), so that each collection walks only what the jobs make."""
    config = tmp_path / "milestones.toml"
    config.write_text('links = "postgresql://bm@127.0.0.1:1/bm"\n')
    calls: list[str] = []
    monkeypatch.setattr("gc.freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(billing_milestones.workers, "WorkerApp", lambda settings, stalled_after: object())
    monkeypatch.setattr(billing_milestones.workers, "run_worker", lambda *a, **k: calls.append("run"))
    code, out = invoke(None, "worker", "--burst", "--config", str(config))
    assert code == EXIT_OK, out
    assert calls == ["freeze", "run"]


def _worker_raising(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config_text: str, error: BaseException) -> Result:
    """``milestones worker`` with a config of ``config_text`` whose run raises ``error`` (no server needed)."""
    config = tmp_path / "milestones.toml"
    config.write_text(config_text + "\n")

    def run(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr("gc.freeze", lambda: None)
    monkeypatch.setattr(billing_milestones.workers, "WorkerApp", lambda settings, stalled_after: object())
    monkeypatch.setattr(billing_milestones.workers, "run_worker", run)
    return CliRunner().invoke(app, ["worker", "--config", str(config)], env={"COLUMNS": "200"})


def test_a_worker_judged_dead_exits_with_the_reason_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fenced worker (its lock lost long enough to be judged dead, its jobs requeued) says so and exits 1
    for its supervisor to start a new one, as any other problem does."""
    fenced = WorkerFencedError("this worker lost its liveness lock and was judged dead by another; it stopped")
    result = _worker_raising(tmp_path, monkeypatch, 'links = "postgresql://bm@127.0.0.1:1/bm"', fenced)
    assert result.exit_code == EXIT_PROBLEMS and isinstance(result.exception, SystemExit), result.exception
    assert "judged dead by another" in result.output and "Traceback" not in result.output


def test_a_worker_whose_queue_database_cannot_be_reached_says_so_without_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The queue's pool gave up (psycopg_pool.PoolTimeout after its 30 s, as a real unreachable server does):
    the store opener's message and exit code, the password masked, not psycopg's traceback."""
    from psycopg_pool import PoolTimeout

    unreachable = PoolTimeout("pool initialization incomplete after 30.0 sec")
    result = _worker_raising(tmp_path, monkeypatch, 'links = "postgresql://bm:s3cret@127.0.0.1:1/bm"', unreachable)
    assert result.exit_code == EXIT_USAGE and isinstance(result.exception, SystemExit), result.exception
    assert "the queue's database postgresql://bm:***@127.0.0.1:1/bm cannot be reached (PoolTimeout" in result.output
    assert "s3cret" not in result.output and "Traceback" not in result.output


def test_enqueue_whose_queue_database_cannot_be_reached_says_so_without_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the worker says it: exit 2 and the store opener's message, not psycopg_pool's traceback (exit 1)."""
    from psycopg_pool import PoolTimeout

    config = tmp_path / "milestones.toml"
    config.write_text(
        'links = "postgresql://bm:s3cret@127.0.0.1:1/bm"\n\n[pairs.erp]\nsource = "autotask:1"\ntarget = "kantata:2"\n'
    )

    def enqueue(*args: object, **kwargs: object) -> None:
        raise PoolTimeout("pool initialization incomplete after 30.0 sec")

    monkeypatch.setattr(billing_milestones.workers, "enqueue_pairs", enqueue)
    code, out = invoke(None, "enqueue", "erp", "--config", str(config))
    assert code == EXIT_USAGE, out
    assert "the queue's database postgresql://bm:***@127.0.0.1:1/bm cannot be reached (PoolTimeout" in out
    assert "s3cret" not in out and "Traceback" not in out


@pytest.mark.parametrize(("heartbeat", "stalled_after"), [("20", "3"), ("2", "3"), ("15", "29")])
def test_a_worker_whose_beats_are_too_far_apart_for_stalled_after_is_refused_before_it_starts(
    tmp_path: Path, heartbeat: str, stalled_after: str
) -> None:
    """A worker beating every 20 s with jobs judged stalled after 3 s requeued its own running job ten times
    (each run succeeded, the job ended failed). Refused by name, before any connection (none could be made)."""
    config = tmp_path / "milestones.toml"
    config.write_text('links = "postgresql://bm@127.0.0.1:1/bm"\n')
    args = ["worker", "--heartbeat", heartbeat, "--stalled-after", stalled_after, "--config", str(config)]
    code, out = invoke(None, *args)
    assert code == EXIT_USAGE, out
    assert f"heartbeat: {heartbeat} s between beats is more than half of stalled_after ({stalled_after} s" in out


def test_beats_at_half_of_stalled_after_are_allowed() -> None:
    from billing_milestones.workers._worker import check_heartbeat

    check_heartbeat(1.5, 3.0)
    check_heartbeat(10.0, 30.0)  # the defaults


def test_a_worker_stopped_by_the_third_ctrl_c_does_not_say_no_writes_were_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commands' generic Ctrl-C line says "0 writes done", which a worker cannot know (its jobs wrote, and
    a thread still running may go on writing): exit 130 and where to look instead."""
    from billing_milestones.cli import EXIT_INTERRUPTED

    result = _worker_raising(tmp_path, monkeypatch, 'links = "postgresql://bm@127.0.0.1:1/bm"', KeyboardInterrupt())
    assert result.exit_code == EXIT_INTERRUPTED, result.output
    assert "0 writes" not in result.output and "milestones runs" in result.output
