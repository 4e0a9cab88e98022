"""Where the scale run's wall time goes: read back from the queue's job events and the workers' records.

``benchmarks/scale.py`` runs each worker with two loggers written as JSON lines to a file per worker: the
per-job phase record (``billing_milestones.workers``, ``bm_event`` ``"pair_job"``) and one record per HTTP
attempt (``billing_milestones.metrics``). With procrastinate's ``procrastinate_events`` (deferred, started,
deferred_for_retry, succeeded... per job, by the server's clock) that is enough to say, per job and summed
over the run: how long jobs waited in the queue, how long each phase took (wall and CPU), how much of it was
spent in HTTP sends, how many attempts were retried, how long the killed worker's job waited to be picked
up again, and how busy the worker threads were.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

__all__ = ["Timeline", "read_timeline"]


@dataclass
class Timeline:
    jobs: int = 0
    attempts: int = 0
    retried_jobs: int = 0
    #: phase -> (summed wall seconds, summed CPU seconds), over every job record.
    phases: dict[str, tuple[float, float]] = field(default_factory=dict)
    job_wall: float = 0.0
    job_cpu: float = 0.0
    #: platform -> (attempts, retried attempts, summed send seconds)
    http: dict[str, tuple[int, int, float]] = field(default_factory=dict)
    queue_wait: float = 0.0
    retry_wait: float = 0.0
    #: seconds from the kill to the killed worker's job starting again (None without a kill)
    recovery: float | None = None
    #: per worker: seconds from its spawn to its first job starting
    first_job: dict[str, float] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)

    def lines(self, wall: float, threads: int) -> list[str]:
        out = [
            f"  jobs {self.jobs} records over {self.attempts} attempts ({self.retried_jobs} jobs retried); "
            f"summed job wall {self.job_wall:.1f} s, cpu {self.job_cpu:.1f} s; threads busy "
            f"{self.job_wall / (wall * threads) * 100 if wall else 0:.0f} % of {threads} x {wall:.1f} s",
            f"  queue: waited {self.queue_wait:.1f} s summed before a first start, {self.retry_wait:.1f} s before "
            "retries"
            + (f"; killed worker's job restarted {self.recovery:.1f} s after the kill" if self.recovery else ""),
        ]
        per_job = ", ".join(
            f"{name} {wall / max(self.attempts, 1) * 1000:.0f}/{cpu / max(self.attempts, 1) * 1000:.0f}"
            for name, (wall, cpu) in self.phases.items()
        )
        out.append(f"  per attempt, wall/cpu ms: {per_job}")
        for platform, (n, retried, seconds) in sorted(self.http.items()):
            out.append(
                f"  http {platform}: {n} attempts ({retried} retried), {seconds:.1f} s summed, "
                f"{seconds / max(n, 1) * 1000:.1f} ms each"
            )
        if self.first_job:
            firsts = ", ".join(f"{name} {t:.1f} s" for name, t in sorted(self.first_job.items()))
            out.append(f"  first job started after spawn: {firsts}")
        return out


def _records(directory: Path) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(directory.glob("*.jsonl")):
        rows = []
        for line in path.read_text(errors="replace").splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue  # the killed worker's last line may be cut short
        found[path.stem] = rows
    return found


def read_timeline(
    links: str, directory: Path, task: str, *, spawned: dict[str, float], killed_at: float | None
) -> Timeline:
    """``spawned`` and ``killed_at`` are wall-clock (``time.time()``) seconds, as the records' ``at``."""
    timeline = Timeline()
    records = _records(directory)
    for worker, rows in records.items():
        starts = []
        for row in rows:
            if row.get("bm_event") == "pair_job":
                timeline.attempts += 1
                timeline.job_wall += row["bm_wall_s"]
                timeline.job_cpu += row["bm_cpu_s"]
                starts.append(row["at"] - row["bm_wall_s"])
                for key, value in row.items():
                    if key.startswith("bm_phase_") and not key.endswith("_cpu_s"):
                        name = key[len("bm_phase_") : -len("_s")]
                        wall, cpu = timeline.phases.get(name, (0.0, 0.0))
                        timeline.phases[name] = (wall + value, cpu + row.get(f"bm_phase_{name}_cpu_s", 0.0))
            elif row.get("bm_event") == "http_request":
                n, retried, seconds = timeline.http.get(row["bm_platform"], (0, 0, 0.0))
                timeline.http[row["bm_platform"]] = (
                    n + 1,
                    retried + bool(row.get("bm_retried")),
                    seconds + float(row.get("bm_duration_s") or 0.0),
                )
        if starts and worker in spawned:
            timeline.first_job[worker] = min(starts) - spawned[worker]
    with psycopg.connect(links) as conn:
        found = conn.execute(
            "SELECT e.job_id, e.type::text, extract(epoch FROM e.at)::float8 FROM procrastinate_events e "
            "JOIN procrastinate_jobs j ON j.id = e.job_id WHERE j.task_name=%s ORDER BY e.id",
            (task,),
        ).fetchall()
    events: dict[int, list[tuple[str, float]]] = defaultdict(list)
    for job_id, name, moment in found:
        events[int(job_id)].append((str(name), float(moment)))
    timeline.jobs = len(events)
    for history in events.values():
        kinds = [k for k, _ in history]
        timeline.statuses[kinds[-1]] += 1
        timeline.retried_jobs += kinds.count("started") > 1
        ready: float | None = None
        first = True
        for kind, at in history:
            if kind in ("deferred", "deferred_for_retry", "retried"):
                ready = at
            elif kind == "started" and ready is not None:
                if first:
                    timeline.queue_wait += at - ready
                else:
                    timeline.retry_wait += at - ready
                first = False
                ready = None
        if killed_at is not None:
            restarts = [at for kind, at in history if kind == "started" and at > killed_at]
            began = [at for kind, at in history if kind == "started" and at <= killed_at]
            ended = [at for kind, at in history if kind in ("succeeded", "failed", "deferred_for_retry")]
            if began and restarts and not any(began[-1] < at <= killed_at for at in ended):
                wait = restarts[0] - killed_at
                timeline.recovery = max(timeline.recovery or 0.0, wait)
    return timeline


_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int, *, reaped: bool = False) -> float:
    """CPU seconds of one live process (``reaped``: with its children it has waited for); 0 when gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if reaped:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / _TICK


def postgres_cpu(port: int) -> float:
    """CPU seconds of the PostgreSQL server listening on ``port``: its postmaster with the backends it has
    reaped, plus the backends still running (found by their parent)."""
    postmaster = None
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            with open(entry / "stat") as stat:
                parents[int(entry.name)] = int(stat.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        if argv and argv[0].endswith(b"postgres") and b"-p" in argv and str(port).encode() in argv:
            postmaster = int(entry.name)
    if postmaster is None:
        return 0.0
    return process_cpu(postmaster, reaped=True) + sum(
        process_cpu(pid) for pid, parent in parents.items() if parent == postmaster
    )


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A PostgreSQL server of the run's own (the tests' helper: initdb/pg_ctl as the postgres user) and a fresh
    database on it, for the benchmarks that need one."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests._postgres import _running_server, fresh_database

    with _running_server() as server:
        yield fresh_database(server)
