"""Scale on loopback: many pairs synced by several worker processes sharing one PostgreSQL queue, link store
and Autotask budget, against the emulators with latency and faults, one worker killed mid-run.

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
import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg

from billing_milestones import KantataClient
from billing_milestones.demo import KANTATA_TOKEN, sandbox_environment
from billing_milestones.sandbox import AutotaskSandbox, FaultPlan, KantataSandbox, LoopbackServer
from billing_milestones.sandbox._asgi import combined_app
from billing_milestones.sync import LinkStore
from billing_milestones.workers import SYNC_TASK, enqueue_pairs

_REPO = Path(__file__).resolve().parent.parent


@dataclass
class ScaleReport:
    pairs: int
    milestones: int
    workers: int
    killed: bool
    synced_pairs: int
    lost: int
    duplicated: int
    failed_jobs: int
    autotask_requests: int
    autotask_throttled: int
    autotask_hourly_threshold: int
    kantata_requests: int
    wall_seconds: float
    floor_seconds: float

    @property
    def ratio(self) -> float:
        return self.wall_seconds / self.floor_seconds if self.floor_seconds else float("inf")

    @property
    def ok(self) -> bool:
        return (
            self.synced_pairs == self.pairs
            and self.lost == 0
            and self.duplicated == 0
            and self.autotask_throttled == 0
            and self.autotask_requests <= self.autotask_hourly_threshold
        )


def _seed(
    pairs: int, milestones: int, latency: float, fault_rate: float
) -> tuple[AutotaskSandbox, KantataSandbox, list[str]]:
    autotask = AutotaskSandbox(faults=FaultPlan(seed=7).latency(latency).status(503, probability=fault_rate))
    kantata = KantataSandbox(faults=FaultPlan(seed=8).latency(latency).status(503, probability=fault_rate))
    lines: list[str] = []
    for p in range(pairs):
        contract = autotask.add_contract(name=f"Contract {p}", currency="USD")
        for m in range(milestones):
            autotask.add_milestone(
                contract, title=f"P{p} M{m}", amount=f"{100 + m}.25", date_due=dt.date(2027, 1, 1 + m % 28)
            )
        workspace = kantata.add_workspace(f"Project {p}", currency="USD")
        lines += [f"[pairs.p{p:03d}]", f'source = "autotask:{contract}"', f'target = "kantata:{workspace}"', ""]
    return autotask, kantata, lines


def _jobs(links: str) -> Counter[str]:
    with psycopg.connect(links) as conn:
        rows = conn.execute(
            "SELECT status::text, count(*) FROM procrastinate_jobs WHERE task_name=%s GROUP BY status", (SYNC_TASK,)
        ).fetchall()
    return Counter({str(status): int(n) for status, n in rows})


def _worker(config: Path, env: dict[str, str], name: str, concurrency: int) -> subprocess.Popen[bytes]:
    code = "from billing_milestones.cli import main; main()"
    argv = [sys.executable, "-c", code, "worker", "--config", str(config), "--name", name]
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
    autotask, kantata, lines = _seed(pairs, milestones, latency, fault_rate)
    app = combined_app({"/kantata": kantata.asgi_app(), "/autotask": autotask.asgi_app()})
    with tempfile.TemporaryDirectory(prefix="bm-scale-") as tmp, LoopbackServer(app) as server:
        config = Path(tmp) / "milestones.toml"
        workers_table = ["[workers]", "retries = 20", "retry_wait = 1", 'queue = "scale"', ""]
        config.write_text(
            "\n".join(
                [f"links = {json.dumps(links)}", "", "[autotask]", 'currency = "USD"', "", *workers_table, *lines]
            )
        )
        env = {**os.environ, **sandbox_environment(server.url)}
        from billing_milestones.sync.config import load_settings

        settings = load_settings(config, env=env)
        enqueue_pairs(settings, sorted(settings.pairs))
        start = time.monotonic()
        procs = [_worker(config, env, f"scale-{i}", concurrency) for i in range(workers)]
        killed = False
        try:
            deadline = start + timeout
            with LinkStore(links) as store:
                while time.monotonic() < deadline:
                    jobs = _jobs(links)
                    if jobs["succeeded"] + jobs["failed"] >= pairs:
                        break
                    if kill and not killed and len(store.runs(limit=pairs)) >= max(1, pairs // 4):
                        procs[0].send_signal(signal.SIGKILL)
                        procs[0].wait(10)  # reaped, as init or systemd would: not a zombie that looks alive
                        killed = True
                    time.sleep(0.2)
            wall = time.monotonic() - start
        finally:
            for proc in procs:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        if os.environ.get("BM_SCALE_LOGS"):
            for log in sorted(Path(tmp).glob("*.log")):
                print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}", file=sys.stderr)
        jobs = _jobs(links)
        lost = duplicated = synced = 0
        with KantataClient(KANTATA_TOKEN, http_client=kantata.http_client()) as client:
            kantata.faults = FaultPlan()
            for source_line, target_line in zip(lines[1::4], lines[2::4], strict=True):
                contract = int(source_line.split(":")[1].strip('"'))
                workspace = target_line.split(":")[1].strip('"')
                wanted = Counter(m["title"] for m in autotask.milestones.values() if m["contractID"] == contract)
                have = Counter(m.title for m in client.milestones.list(workspace))
                lost += sum((wanted - have).values())
                duplicated += sum((have - wanted).values())
                synced += wanted == have
        at_requests = len(autotask.request_log)
        throttled = sum(1 for e in autotask.request_log if e.status == 429 and e.fault is None)
        return ScaleReport(
            pairs=pairs,
            milestones=milestones,
            workers=workers,
            killed=killed,
            synced_pairs=synced,
            lost=lost,
            duplicated=duplicated,
            failed_jobs=jobs["failed"],
            autotask_requests=at_requests,
            autotask_throttled=throttled,
            autotask_hourly_threshold=10_000,
            kantata_requests=len(kantata.request_log),
            wall_seconds=round(wall, 2),
            # Autotask allows 3 in flight per endpoint; Kantata no fewer than the workers' threads together.
            floor_seconds=round(max(at_requests / 3, len(kantata.request_log) / (workers * concurrency)) * latency, 2),
        )


@contextlib.contextmanager
def _throwaway_postgres() -> Iterator[str]:
    """A PostgreSQL server of our own for the run (the tests' helper: initdb/pg_ctl as the postgres user)."""
    sys.path.insert(0, str(_REPO))
    from tests._postgres import _running_server, fresh_database

    with _running_server() as server:
        yield fresh_database(server)


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
        links = args.links or stack.enter_context(_throwaway_postgres())
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
        print(json.dumps({**asdict(report), "ratio": report.ratio, "ok": report.ok}))
    else:
        print(
            f"scale: {report.pairs} pairs x {report.milestones} milestones, {report.workers} workers"
            f"{' (one killed mid-run)' if report.killed else ''}"
        )
        print(
            f"  pairs synced {report.synced_pairs}/{report.pairs}, lost {report.lost}, duplicated {report.duplicated}, "
            f"failed jobs {report.failed_jobs}"
        )
        print(
            f"  Autotask: {report.autotask_requests} requests (hourly threshold {report.autotask_hourly_threshold}), "
            f"{report.autotask_throttled} refused for a 4th concurrent request; Kantata: {report.kantata_requests}"
        )
        print(
            f"  wall {report.wall_seconds:.1f} s vs floor {report.floor_seconds:.1f} s "
            f"(max of Autotask requests / 3, Kantata requests / worker threads, x latency): {report.ratio:.2f}x"
        )
        print(f"  {'OK' if report.ok else 'FAILED'}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
