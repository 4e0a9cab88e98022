"""Scale on loopback: many pairs synced by several worker processes sharing one PostgreSQL queue, link store
and Autotask budget, against ``milestones sandbox serve`` (its own process) with latency and faults, one worker
killed mid-run.

It prints what matters for a deployment: every pair synced, no milestone lost or duplicated, the emulator
never saw a fourth concurrent Autotask request on an endpoint (it answers 429) nor its hourly threshold
exceeded, and the wall time against the floor (requests / allowed concurrency x latency: 3 in flight for
Autotask, the workers' threads for Kantata, whichever is longer). Never
asserted on timings; tests/workers/test_scale.py runs a reduced size and asserts the counts.

make bench   # runs this at full size: 200 pairs x 50 milestones, 4 workers, 20 ms, 5 % faults
.venv/bin/python benchmarks/scale.py --pairs 20 --milestones 10 --workers 2   # smaller
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from billing_milestones.sync import LinkStore
from billing_milestones.workers import SYNC_TASK, WorkerApp, enqueue_pairs
from billing_milestones.workers._budgets import _GRACE, request_bound

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_history import autotask_charged, killed_runs, lost_closed, progress, run_rows
from scale_sandbox import check_pairs, serve_scaled, served, stop_if_running
from scale_timeline import Timeline, postgres_cpu, process_cpu, read_timeline, throwaway_postgres

_REPO = Path(__file__).resolve().parent.parent
#: Seconds a killed worker's pending writes are given to land before its requeued job lists the target
#: (``write_settle``; 96 s by default, the clients' longest request). The emulators answer on loopback after
#: 20 ms, so a dead worker's request has been served long before 1 s: the rerun still waits for it (and must
#: adopt, not create again) without a 96 s pause in the wall time.
WRITE_SETTLE = 1.0
#: Seconds each phase of an Autotask request may take (``[workers] autotask_timeout``), which also bounds what
#: a killed worker's Autotask slots stay taken for after it took them (the whole lease: the request's bound
#: plus a second, ``AUTOTASK_SLOT_LEASE``), since its request may still be being served. A worker that has
#: finished 8 holds stamps its slots with a second plus 4x its longest recent hold instead (workers/
#: _hold_spans.py: ~1.5 s here), but a small run's killed worker may not have: with the clients' default
#: timeout its slots would stay taken 96 s (before the shorter leases, a full run took 102 s instead of 5 when
#: the kill caught all three). The emulators answer on loopback in 20 ms (an attempt takes 30-110 ms on this
#: machine, loaded or not), so 2 s a phase still times out nothing, and a kill costs at most the 9 s lease.
AUTOTASK_TIMEOUT = 2.0
AUTOTASK_SLOT_LEASE = request_bound(AUTOTASK_TIMEOUT) + _GRACE
#: The workers' shared hourly budget (``autotask_hourly_budget``), the emulator's threshold (its default).
AUTOTASK_HOURLY = 10_000


@dataclass
class ScaleReport:
    pairs: int
    milestones: int
    workers: int
    #: a worker was killed in a run (``kill_asked``: the run was to kill one; a run that never caught the
    #: victim in a run tested no recovery and is not OK)
    killed: bool
    synced_pairs: int
    lost: int
    duplicated: int
    #: milestones whose title is the contract's but whose amount or due date is not
    wrong: int
    failed_jobs: int
    #: rows in the run history, and those still open at the end (none: the killed run's row is closed by
    #: its pair's rerun)
    run_rows: int
    open_runs: int
    #: the runs the killed worker was killed in (its rows open at the kill), and how many of them its pairs'
    #: reruns closed as lost (ok false, with the lost run's error)
    killed_runs: int
    killed_runs_lost: int
    autotask_requests: int
    #: the Autotask requests the workers charged to their shared hourly budget (at least every one sent)
    autotask_charged: int
    autotask_throttled: int
    autotask_hourly_threshold: int
    kantata_requests: int
    wall_seconds: float
    floor_seconds: float
    #: from spawning the workers to all of them registered and idle (not in the wall time)
    startup_seconds: float = 0.0
    #: the pairs' settle window (seconds): how long a rerun waits for a killed run's pending writes
    write_settle: float = WRITE_SETTLE
    #: how long a killed worker's Autotask slots stay taken after it took them (seconds)
    autotask_slot_lease: float = AUTOTASK_SLOT_LEASE
    #: CPU seconds spent during the wall time: "emulators" (the ``sandbox serve`` process), "bench" (this
    #: process: the poll), "workers" (every worker process), "postgres" (the server), "machine" (everything,
    #: others too)
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    timeline: Timeline | None = None
    kill_asked: bool = False

    @property
    def ratio(self) -> float:
        return self.wall_seconds / self.floor_seconds if self.floor_seconds else float("inf")

    @property
    def ok(self) -> bool:
        return (
            self.synced_pairs == self.pairs
            and self.lost == 0
            and self.duplicated == 0
            and self.wrong == 0
            and self.failed_jobs == 0
            and (self.killed or not self.kill_asked)
            and self.open_runs == 0
            and self.run_rows >= self.pairs + self.killed_runs
            and self.killed_runs_lost == self.killed_runs
            and (self.killed_runs > 0 or not self.killed)
            and self.autotask_throttled == 0
            and self.autotask_requests <= min(self.autotask_charged, self.autotask_hourly_threshold)
        )


def _pair_lines(seeded: list[list[Any]]) -> list[str]:
    lines: list[str] = []
    for p, (contract, workspace) in enumerate(seeded):
        lines += [f"[pairs.p{p:03d}]", f'source = "autotask:{contract}"', f'target = "kantata:{workspace}"']
        lines += [f"write_settle = {WRITE_SETTLE:g}", ""]
    return lines


def _jobs(conn: psycopg.Connection[Any]) -> Counter[str]:
    rows = conn.execute(
        "SELECT status::text, count(*) FROM procrastinate_jobs WHERE task_name=%s GROUP BY status", (SYNC_TASK,)
    ).fetchall()
    return Counter({str(status): int(n) for status, n in rows})


def _cpu_now(procs: list[subprocess.Popen[bytes]], port: int, sandbox: int) -> dict[str, float]:
    """CPU seconds so far: the sandbox's process (the emulators), this process (the poll), the live workers,
    PostgreSQL, the whole machine (every process, other users' too)."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    return {
        "emulators": process_cpu(sandbox),
        "bench": time.process_time(),
        "workers": sum(process_cpu(p.pid) for p in procs if p.poll() is None),
        "postgres": postgres_cpu(port),
        "machine": (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK"),
    }


#: A worker as ``milestones worker`` runs, with its job and HTTP records written as JSON lines to a file (the
#: first argument) for :mod:`scale_timeline` to read back.
_WORKER_CODE = """
import json, logging, sys
class _Lines(logging.Handler):
    def __init__(self, path):
        super().__init__()
        self.out = open(path, "a", buffering=1)
    def emit(self, record):
        fields = {k: v for k, v in vars(record).items() if k.startswith("bm_")}
        self.out.write(json.dumps({"logger": record.name, "at": record.created, **fields}, default=str) + "\\n")
handler = _Lines(sys.argv.pop(1))
for name in ("billing_milestones.workers", "billing_milestones.metrics"):
    log = logging.getLogger(name)
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    log.propagate = False
from billing_milestones.cli import main
main()
"""


def _worker(config: Path, env: dict[str, str], name: str, concurrency: int) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-c", _WORKER_CODE, str(config.parent / f"{name}.jsonl")]
    argv += ["worker", "--config", str(config), "--name", name]
    argv += [
        "--concurrency",
        str(concurrency),
        "--heartbeat",
        "1",
        "--stalled-after",
        "3",
        "--log-level",
        os.environ.get("BM_SCALE_LOG_LEVEL", "WARNING"),
    ]
    log = open(config.parent / f"{name}.log", "wb")  # noqa: SIM115 - the worker writes it until it stops
    return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=log)


def _registered_workers(links: str) -> int:
    with psycopg.connect(links) as conn:
        row = conn.execute("SELECT count(*) FROM procrastinate_workers").fetchone()
    return int(row[0]) if row else 0


def run_scale(
    links: str,
    *,
    pairs: int = 200,
    milestones: int = 50,
    workers: int = 4,
    concurrency: int = 3,
    latency: float = 0.02,
    fault_rate: float = 0.05,
    kill: bool = True,
    timeout: float = 900.0,
) -> ScaleReport:
    """Seed, serve, enqueue every pair, run the workers (killing one when a quarter of the pairs are done),
    wait for every job, then compare each pair's two sides."""
    sandbox, started = serve_scaled(pairs, milestones, latency, fault_rate)
    seeded: list[list[Any]] = started["seeded"]["scale"]["pairs"]
    lines = _pair_lines(seeded)
    with tempfile.TemporaryDirectory(prefix="bm-scale-") as tmp, contextlib.ExitStack() as serving:
        serving.callback(stop_if_running, sandbox)
        config = Path(tmp) / "milestones.toml"
        workers_table = ["[workers]", "retries = 20", "retry_wait = 1", 'queue = "scale"']
        workers_table += [f"autotask_timeout = {AUTOTASK_TIMEOUT:g}", f"autotask_hourly_budget = {AUTOTASK_HOURLY}", ""]
        config.write_text(
            "\n".join(
                [f"links = {json.dumps(links)}", "", "[autotask]", 'currency = "USD"', "", *workers_table, *lines]
            )
        )
        env = {**os.environ, **started["environment"]}
        from billing_milestones.sync.config import load_settings

        settings = load_settings(config, env=env)
        asyncio.run(WorkerApp(settings).prepare_async())  # the queue's and the store's tables, as a deployment
        LinkStore(links).close()  # has them before its workers start
        # Workers are long-running in a deployment: start them, wait until each has registered and is idle,
        # and only then enqueue. The wall time runs from the enqueue; the start-up is reported beside it.
        spawn = time.monotonic()
        spawned = {f"scale-{i}": time.time() for i in range(workers)}
        procs = [_worker(config, env, name, concurrency) for name in spawned]
        killed_at: float | None = None
        killed_cpu = 0.0
        killed: list[int] = []
        try:
            while _registered_workers(links) < workers:
                if time.monotonic() > spawn + timeout or any(p.poll() is not None for p in procs):
                    raise RuntimeError("the workers did not start")
                time.sleep(0.05)
            startup = time.monotonic() - spawn
            port = int(psycopg.conninfo.conninfo_to_dict(links).get("port") or 5432)
            cpu = _cpu_now(procs, port, sandbox.pid)
            start = time.monotonic()
            enqueue_pairs(settings, sorted(settings.pairs))
            deadline = start + timeout
            with psycopg.connect(links, autocommit=True) as conn:
                while time.monotonic() < deadline:
                    ended, runs_ended, victim_open = progress(conn, SYNC_TASK, procs[0].pid)
                    if ended >= pairs:
                        break
                    # Killed in a run (scale_history.py): a quarter of the runs ended, and one of its own open.
                    if kill and killed_at is None and runs_ended >= max(1, pairs // 4) and victim_open:
                        # Frozen first, and its rows read once what it sent before has been committed: a run
                        # that ended between the poll and the kill would be counted as killed in.
                        procs[0].send_signal(signal.SIGSTOP)
                        time.sleep(0.2)
                        killed = killed_runs(conn, procs[0].pid)
                        if not killed:  # between two runs after all: on, and killed in a later one
                            procs[0].send_signal(signal.SIGCONT)
                            continue
                        killed_cpu = process_cpu(procs[0].pid)
                        procs[0].send_signal(signal.SIGKILL)
                        killed_at = time.time()
                        procs[0].wait(10)  # reaped, as init or systemd would: not a zombie that looks alive
                    time.sleep(0.02)
            wall = time.monotonic() - start
            used = _cpu_now(procs, port, sandbox.pid)
            used = {k: round(v - cpu[k] + (killed_cpu if k == "workers" else 0.0), 2) for k, v in used.items()}
        finally:
            for proc in procs:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        timeline = read_timeline(links, Path(tmp), SYNC_TASK, spawned=spawned, killed_at=killed_at)
        if os.environ.get("BM_SCALE_LOGS"):
            for log in sorted(Path(tmp).glob("*.log")):
                print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}", file=sys.stderr)
        with psycopg.connect(links) as conn:
            jobs = _jobs(conn)
            rows, open_runs = run_rows(conn)
            killed_lost, charged = lost_closed(conn, killed), autotask_charged(conn)
        checked = check_pairs(env, seeded, milestones)
        counts = served(sandbox)
        at_requests = counts["autotask"]["requests"] - checked.autotask_requests  # the check's are not the run's
        kantata_requests = counts["kantata"]["requests"] - checked.kantata_requests
        throttled = counts["autotask"]["refused_by_limits"]
        return ScaleReport(
            pairs=pairs,
            milestones=milestones,
            workers=workers,
            killed=killed_at is not None,
            kill_asked=kill,
            synced_pairs=checked.synced,
            lost=checked.lost,
            duplicated=checked.duplicated,
            wrong=checked.wrong,
            failed_jobs=jobs["failed"],
            run_rows=rows,
            open_runs=open_runs,
            killed_runs=len(killed),
            killed_runs_lost=killed_lost,
            autotask_requests=at_requests,
            autotask_charged=charged,
            autotask_throttled=throttled,
            autotask_hourly_threshold=AUTOTASK_HOURLY,
            kantata_requests=kantata_requests,
            wall_seconds=round(wall, 2),
            # Autotask allows 3 in flight per endpoint; Kantata no fewer than the workers' threads together.
            floor_seconds=round(max(at_requests / 3, kantata_requests / (workers * concurrency)) * latency, 2),
            startup_seconds=round(startup, 2),
            cpu_seconds=used,
            timeline=timeline,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--links", help="an empty postgresql:// store to use (default: a throwaway server)")
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--milestones", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--faults", type=float, default=0.05)
    parser.add_argument("--no-kill", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        links = args.links or stack.enter_context(throwaway_postgres())
        report = run_scale(
            links,
            pairs=args.pairs,
            milestones=args.milestones,
            workers=args.workers,
            concurrency=args.concurrency,
            latency=args.latency,
            fault_rate=args.faults,
            kill=not args.no_kill,
        )
    if args.json:
        # The timeline's tables are keyed by tuples, which JSON cannot key by: its lines are given instead.
        lines = report.timeline.lines(report.wall_seconds, report.workers * args.concurrency) if report.timeline else []
        fields = {**asdict(report), "timeline": lines, "ratio": report.ratio, "ok": report.ok}
        print(json.dumps(fields))
    else:
        print(
            f"scale: {report.pairs} pairs x {report.milestones} milestones, {report.workers} workers"
            f"{' (one killed mid-run)' if report.killed else ''}"
        )
        print(
            f"  pairs synced {report.synced_pairs}/{report.pairs}, lost {report.lost}, duplicated {report.duplicated}, "
            f"wrong amount or date {report.wrong}, failed jobs {report.failed_jobs}; run history {report.run_rows} "
            f"rows, {report.open_runs} left open; killed in {report.killed_runs} runs, {report.killed_runs_lost} "
            "closed as lost by their reruns"
        )
        print(
            f"  Autotask: {report.autotask_requests} requests, {report.autotask_charged} charged to the shared budget "
            f"(hourly threshold {report.autotask_hourly_threshold}), "
            f"{report.autotask_throttled} refused for a 4th concurrent request; Kantata: {report.kantata_requests}"
        )
        print(
            f"  wall {report.wall_seconds:.1f} s vs floor {report.floor_seconds:.1f} s "
            f"(max of Autotask requests / 3, Kantata requests / worker threads, x latency): {report.ratio:.2f}x"
        )
        print(f"  workers started and idle in {report.startup_seconds:.1f} s before the enqueue (not in the wall time)")
        print(
            f"  write_settle {report.write_settle:g} s (loopback emulators): a requeued job waits that for the dead run"
        )
        print(
            f"  autotask_timeout {AUTOTASK_TIMEOUT:g} s a phase (loopback emulators): a killed worker's Autotask "
            f"slots stay taken up to {report.autotask_slot_lease:g} s after it took them (1 s + 4x its longest "
            "recent hold once it has finished 8)"
        )
        cpu = report.cpu_seconds
        print(
            f"  cpu during the wall time: emulators {cpu['emulators']:.1f} s, bench {cpu['bench']:.1f} s, "
            f"workers {cpu['workers']:.1f} s, "
            f"postgres {cpu['postgres']:.1f} s; whole machine {cpu['machine']:.1f} s of "
            f"{report.wall_seconds * (os.cpu_count() or 1):.1f} s ({os.cpu_count()} cores)"
        )
        bound = (cpu["emulators"] + cpu["bench"] + cpu["workers"] + cpu["postgres"]) / (os.cpu_count() or 1)
        print(
            f"  (not a floor, a bound this machine sets: this run's own CPU / cores = {bound:.1f} s; the latency "
            "floor above assumes CPU is free)"
        )
        if report.timeline is not None:
            for line in report.timeline.lines(report.wall_seconds, report.workers * args.concurrency):
                print(line)
        print(f"  {'OK' if report.ok else 'FAILED'}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
