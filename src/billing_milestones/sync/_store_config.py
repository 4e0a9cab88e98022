"""Where the link store is (``links`` in milestones.toml, or ``BILLING_MILESTONES_LINKS``) and the workers'
``[workers]`` table: the settings of issue 14, kept out of :mod:`.config` so that module stays one job.

A SQLite store given relative (a plain path or ``sqlite:///rel``) lies beside the config file, not in the
folder the command runs from: a store found in the wrong place is a lost store, and a lost store means a
second copy of every milestone. A ``postgresql://`` URL is returned as text (a Path would fold its ``//``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ..errors import ConfigError
from .store._url import lasting, parse_target

__all__ = ["LINKS_ENV", "LINKS_ENV_OLD", "WorkerSettings", "check_schedule", "links_target", "worker_settings"]

LINKS_ENV: Final = "BILLING_MILESTONES_LINKS"
#: The variable's earlier name, still read when the new one is not set.
LINKS_ENV_OLD: Final = "MILESTONES_LINKS"
DEFAULT_LINKS: Final = "milestones-links.sqlite3"


#: Every N minutes that cron can say evenly: N divides an hour, or N is whole hours dividing a day. Cron's
#: ``*/7`` past the hour runs at :56 and again at :00, 4 minutes later; ``0 */7`` hours at 21:00 and 00:00.
SCHEDULE_MINUTES: Final = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)
SCHEDULE_HOURS: Final = (1, 2, 3, 4, 6, 8, 12, 24)


def check_schedule(minutes: int, key: str = "workers.schedule") -> None:
    """Refuse a period the cron schedule would not keep: runs ``minutes`` apart all day, or a ConfigError
    naming the key, what cron would do instead and the periods that work."""
    if minutes in SCHEDULE_MINUTES or (minutes % 60 == 0 and minutes // 60 in SCHEDULE_HOURS):
        return
    if minutes < 60:
        last = minutes * (59 // minutes)
        runs = f":00 and :{last:02d}" if last == minutes else f":00, :{minutes:02d} ... :{last:02d}"
        gap = 60 - last
        what = f"cron runs it at {runs}, then at :00 again {gap} minute{'s' if gap > 1 else ''} later"
    elif minutes % 60:
        what = "cron can only run it at whole hours after the first"
    else:
        hours = minutes // 60
        what = f"cron runs it every {hours} hours from midnight, then at midnight again {24 % hours} hours later"
    raise ConfigError(
        f"{key}: {minutes} minutes cannot be kept evenly ({what}); use one of "
        f"{', '.join(map(str, SCHEDULE_MINUTES))} minutes, or "
        f"{', '.join(str(h * 60) for h in SCHEDULE_HOURS)} ({'/'.join(map(str, SCHEDULE_HOURS))} hours)",
        key=key,
    )


def links_target(data: Mapping[str, Any], config: Path | None, environ: Mapping[str, str]) -> Path | str:
    """The store: the environment's, relative to the folder the command runs in, else the file's, beside the
    file. A leading ``~`` is the home folder in both: a value set where no shell expands it (a systemd unit's
    ``Environment=``, a container's env, a quoted ``"~/links.db"``) otherwise named a folder called ``~``.
    SQLite's ``:memory:`` is refused in both (see :func:`~.store._url.lasting`)."""
    for var in (LINKS_ENV, LINKS_ENV_OLD):
        if var in environ and not environ[var].strip():
            # Set but empty (a secret or template that rendered nothing) was read as unset: the file's store,
            # by default a new SQLite file beside it, where every milestone is created again.
            raise ConfigError(
                f"{var}: set but empty; give the link store (a path, sqlite:///path or postgresql://...), "
                "or unset it to use links from the config file",
                key=var,
            )
        if environ.get(var):
            _unquoted(environ[var], var)
            target = lasting(parse_target(environ[var], key=var), var)
            return target.location if target.kind == "postgresql" else Path(target.location).expanduser()
    raw = data.get("links", DEFAULT_LINKS)
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(f"links: expected a file path, sqlite:///path or postgresql://..., got {raw!r}", key="links")
    target = lasting(parse_target(raw, key="links"), "links")
    if target.kind == "postgresql":
        return target.location
    path = Path(target.location).expanduser()
    if config is not None and not path.is_absolute():
        path = config.resolve().parent / path
    return path


def _unquoted(value: str, var: str) -> None:
    """Refuse a value in quotes: an env file (``docker --env-file``, a compose ``env_file``) keeps them, so
    ``"links.db"`` was a new file named with its quotes (a new store) and a quoted URL an unknown scheme."""
    text = value.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        raise ConfigError(
            f"{var}: the value is in quotes, which were kept as part of it (an env file keeps them); "
            "set it without the quotes",
            key=var,
        )


@dataclass(frozen=True)
class WorkerSettings:
    """``[workers]``: how often each pair runs (minutes), how a failed run is retried, the queue's name, and
    the Autotask budgets all workers share (its thread threshold per endpoint, its requests per hour)."""

    schedule: Mapping[str, int] = field(default_factory=dict)
    retries: int = 5
    retry_wait: int = 30
    queue: str = "milestones"
    autotask_threads: int = 3
    autotask_hourly_budget: int = 10_000
    #: Kantata documents no number: None leaves its requests unpaced, as a single process sends them.
    kantata_requests_per_minute: int | None = None
    #: Seconds each phase of an Autotask request may take (None: the clients' 5 s to connect, 30 s for the
    #: rest). Also how long a killed worker's Autotask slot stays taken: every phase in turn, plus 1 s.
    autotask_timeout: float | None = None


_WORKER_KEYS: Final = {
    "schedule",
    "retries",
    "retry_wait",
    "queue",
    "autotask_threads",
    "autotask_hourly_budget",
    "kantata_requests_per_minute",
    "autotask_timeout",
}


def worker_settings(config: Path | None, pairs: Mapping[str, Any]) -> WorkerSettings:
    """Read ``[workers]`` from the config file; every value is checked, naming its key."""
    if config is None or not config.is_file():
        return WorkerSettings()
    data = tomllib.loads(config.read_text(encoding="utf-8")).get("workers", {})
    if not isinstance(data, dict):
        raise ConfigError("workers: expected a table [workers]", key="workers")
    for key in data:
        if key not in _WORKER_KEYS:
            raise ConfigError(
                f"workers.{key}: unknown key (allowed: {', '.join(sorted(_WORKER_KEYS))})", key=f"workers.{key}"
            )
    schedule = data.get("schedule", {})
    if not isinstance(schedule, dict):
        raise ConfigError("workers.schedule: expected a table of pair = minutes", key="workers.schedule")
    for name, minutes in schedule.items():
        key = f"workers.schedule.{name}"
        if name not in pairs:
            known = ", ".join(sorted(pairs)) or "none"
            raise ConfigError(f"{key}: no such pair in the config (known: {known})", key=key)
        _positive_int(minutes, key, upper=24 * 60)
        check_schedule(minutes, key)
    retries = data.get("retries", 5)
    retry_wait = data.get("retry_wait", 30)
    _positive_int(retries, "workers.retries", upper=100, zero=True)
    _positive_int(retry_wait, "workers.retry_wait", upper=3600)
    queue = data.get("queue", "milestones")
    if not isinstance(queue, str) or not queue.strip() or not queue.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(
            f"workers.queue: expected a name of letters, digits, - or _, got {queue!r}", key="workers.queue"
        )
    threads = data.get("autotask_threads", 3)
    hourly = data.get("autotask_hourly_budget", 10_000)
    _positive_int(threads, "workers.autotask_threads", upper=3)
    _positive_int(hourly, "workers.autotask_hourly_budget", upper=10_000)
    kantata = data.get("kantata_requests_per_minute")
    if kantata is not None:
        _positive_int(kantata, "workers.kantata_requests_per_minute", upper=100_000)
    timeout = data.get("autotask_timeout")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 300
    ):
        raise ConfigError(
            f"workers.autotask_timeout: expected seconds above 0, at most 300, got {timeout!r}",
            key="workers.autotask_timeout",
        )
    return WorkerSettings(
        schedule=dict(schedule),
        retries=retries,
        retry_wait=retry_wait,
        queue=queue,
        autotask_threads=threads,
        autotask_hourly_budget=hourly,
        kantata_requests_per_minute=kantata,
        autotask_timeout=None if timeout is None else float(timeout),
    )


def _positive_int(value: object, key: str, *, upper: int, zero: bool = False) -> None:
    low = 0 if zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= upper:
        raise ConfigError(f"{key}: expected a whole number from {low} to {upper}, got {value!r}", key=key)
