"""``milestones worker`` (run a procrastinate worker) and ``milestones enqueue`` (queue pair runs).

Both need the ``[workers]`` extra and a ``postgresql://`` link store, whose database also holds the queue.
"""

from __future__ import annotations

import gc
import json
import logging
from typing import Annotated

import typer
from rich.console import Console

from .. import errors
from ..sync.config import Settings
from ..sync.store import parse_target
from ..sync.store._postgres import unreachable
from ._common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    ConfigOpt,
    JsonOpt,
    app,
    fail,
    guard,
    load_config,
    stdout_console,
)
from ._log_scrub import scrub_handlers

__all__ = ["enqueue_command", "worker_command"]

_EXTRA = "the workers need the [workers] extra: pip install 'billing-milestones[workers]'"


@app.command("worker")
def worker_command(
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Pairs this worker runs at once.")] = 1,
    name: Annotated[
        str | None,
        typer.Option(help="Worker name in procrastinate's log lines (default host:pid:run, new at each start)"),
    ] = None,
    burst: Annotated[bool, typer.Option("--burst", help="Stop once the queue is empty (for cron or tests).")] = False,
    heartbeat: Annotated[
        float,
        typer.Option(
            min=0.1, max=600, help="Seconds between this worker's heartbeats (at most half of --stalled-after)."
        ),
    ] = 10.0,
    stalled_after: Annotated[
        float,
        typer.Option(min=0.5, max=3600, help="Seconds without a heartbeat after which a worker's jobs are requeued."),
    ] = 30.0,
    log_level: Annotated[
        str, typer.Option(help="Log level on stderr: DEBUG, INFO (each run's figures), WARNING, ERROR.")
    ] = "INFO",
    config: ConfigOpt = None,
) -> None:
    """Run a worker: take pair runs from the queue (and the [workers] schedule) until stopped.

    One run of a pair at a time across all workers; SIGTERM or Ctrl-C lets running pairs finish first."""
    with guard(False):
        level = logging.getLevelName(log_level.upper())
        if not isinstance(level, int):
            raise errors.ConfigError(f"--log-level: expected DEBUG, INFO, WARNING or ERROR, got {log_level!r}")
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        scrub_handlers(logging.getLogger())  # procrastinate's, psycopg's and httpx's records too
        if level > logging.DEBUG:
            # httpx logs each request's whole URL at INFO, its query too (Autotask's zone is asked by the API
            # user's name): each attempt's billing_milestones.metrics record says the same without it.
            logging.getLogger("httpx").setLevel(max(level, logging.WARNING))
        settings = load_config(config)
        try:
            import psycopg
            from procrastinate.exceptions import ConnectorException

            from ..workers import WorkerApp, run_worker
        except ImportError:
            raise errors.ConfigError(_EXTRA, key="workers") from None
        worker = WorkerApp(settings, stalled_after=stalled_after)
        # What is alive now (the imported modules, their classes and constants, the settings) lives as long as
        # the worker: out of the collector's sight, each collection only walks what the jobs make. This is
        # the worker's own process, so freezing it is ours to decide (about a tenth of a busy worker's CPU,
        # benchmarks/scale.py, 2026-12-02: 6.1-6.7 s with it against 6.8-7.8 s without).
        gc.freeze()
        try:
            run_worker(worker, concurrency=concurrency, name=name, burst=burst, heartbeat=heartbeat)
        except psycopg.Error as exc:  # PoolTimeout is one: the queue's database unreachable, or lost for good
            raise _queue_unreachable(settings, exc) from None
        except ConnectorException as exc:  # procrastinate's wrapping of the same (its queries, its unregistering)
            cause = exc.__cause__
            if not isinstance(cause, psycopg.OperationalError):
                raise
            raise _queue_unreachable(settings, cause) from None
        except KeyboardInterrupt:  # a second Ctrl-C (the running pairs ended), or a third (marked aborted)
            aborted = getattr(getattr(worker, "jobs", None), "aborted", None)
            raise _worker_interrupted(aborted is None or bool(aborted)) from None


def _worker_interrupted(aborted: bool) -> typer.Exit:
    """Not the other commands' "0 writes done": the worker's jobs wrote what they wrote, and a job whose
    thread was still running when it was marked aborted may go on writing until it ends. After a second
    Ctrl-C the worker waited for its pairs, and none was aborted: said so, not the third's message."""
    said = (
        "the pairs still running were marked aborted; their threads may still finish writes, which the link store keeps"
        if aborted
        else "the worker stopped once the pairs it was running had ended"
    )
    Console(stderr=True, soft_wrap=True).print(
        f"[bold yellow]interrupted:[/] {said}; each run is in `milestones runs`; start the worker again to carry on"
    )
    return typer.Exit(EXIT_INTERRUPTED)


def _queue_unreachable(settings: Settings, exc: Exception) -> errors.ConfigError:
    """The worker's queue database failed: said as the link store's opener says it (the same database), its
    password masked, not as psycopg's traceback."""
    return unreachable("the queue's database", parse_target(settings.links).location, exc)


@app.command("enqueue")
def enqueue_command(
    pairs: Annotated[list[str] | None, typer.Argument(help="Pair names from the config's [pairs] tables")] = None,
    every: Annotated[bool, typer.Option("--all", help="Every configured pair.")] = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Queue one run of each pair; a pair already waiting in the queue is not queued twice."""
    if bool(pairs) == every:
        raise fail("name one or more pairs, or pass --all (not both)", EXIT_USAGE, as_json)
    with guard(as_json):
        settings = load_config(config)
        names = sorted(settings.pairs) if every else list(pairs or [])
        for pair in names:
            settings.pair(pair)
        try:
            import psycopg

            from ..workers import enqueue_pairs
        except ImportError:
            raise errors.ConfigError(_EXTRA, key="workers") from None
        try:
            queued = enqueue_pairs(settings, names)
        except psycopg.Error as exc:  # PoolTimeout is one: the queue's database unreachable
            raise _queue_unreachable(settings, exc) from None
    if as_json:
        typer.echo(json.dumps({"ok": True, "queued": queued}))
    else:
        console = stdout_console()
        for pair, job in queued.items():
            console.print(
                f"{pair}: queued as job {job}" if job is not None else f"{pair}: already queued", highlight=False
            )
    raise typer.Exit(EXIT_OK)
