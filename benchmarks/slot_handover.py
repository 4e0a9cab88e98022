"""How fast the shared Autotask limiter hands a freed slot to a waiting worker, and what that costs.

P worker processes with T threads each hold the 3 slots of one ``PostgresLimiter`` key for HOLD seconds, H
times a thread, against a throwaway PostgreSQL. It prints the slots' use (holds x HOLD / (3 x wall): 1.0
would be no slot ever idle), the client processes' CPU and the server's, per hold. Four processes of one
thread (the default) is the case a hand-over decides: one waiter per freed slot, nobody polling beside it.

``--src DIR`` (repeatable) runs each given source tree in turn, interleaved, e.g. the previous commit's in
a ``git worktree``: ``--src /tmp/wt/src --src src``. Timings only, never asserted.

.venv/bin/python benchmarks/slot_handover.py --rounds 3 --src /tmp/wt-slots/src --src src
.venv/bin/python benchmarks/slot_handover.py --latency --src /tmp/wt-slots/src --src src
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from scale_timeline import postgres_cpu

_REPO = Path(__file__).resolve().parent.parent

_CHILD = r"""
import json, sys, threading, time
from billing_milestones.workers import PostgresLimiter
url, threads, holds, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
limiter = PostgresLimiter(url, 3, namespace="handover")
with limiter("k"):
    pass
print("ready", flush=True)
sys.stdin.readline()
cpu = time.process_time()
def run():
    for _ in range(holds):
        with limiter("k"):
            time.sleep(hold)
workers = [threading.Thread(target=run) for _ in range(threads)]
for w in workers:
    w.start()
for w in workers:
    w.join()
print(json.dumps({"end": time.time(), "cpu": time.process_time() - cpu}), flush=True)
limiter.close()
"""


#: --latency: one process holds the only slot and lets go every 150 ms; another, waiting by then, takes it.
_HOLDER = r"""
import sys, time
from billing_milestones.workers import PostgresLimiter
limiter = PostgresLimiter(sys.argv[1], 1, namespace="latency")
released = []
for _ in range(int(sys.argv[2])):
    hold = limiter("k")
    hold.__enter__()
    time.sleep(0.1)
    released.append(time.time())
    hold.__exit__(None, None, None)
    time.sleep(0.05)
print(" ".join(map(repr, released)), flush=True)
limiter.close()
"""
_WAITER = r"""
import sys, time
from billing_milestones.workers import PostgresLimiter
limiter = PostgresLimiter(sys.argv[1], 1, namespace="latency")
taken = []
for _ in range(int(sys.argv[2])):
    with limiter("k"):
        taken.append(time.time())
        time.sleep(0.01)
    time.sleep(0.06)  # the holder has the slot again: wait for its next release
print(" ".join(map(repr, taken)), flush=True)
limiter.close()
"""


def _latency(url: str, src: str, n: int) -> list[float]:
    """Milliseconds from each release to the waiting process's take that followed it."""
    env = {**os.environ, "PYTHONPATH": src}
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, url, str(n)], env=env, cwd=_REPO, stdout=subprocess.PIPE)
    time.sleep(1.0)  # the holder has the slot first
    waiter = subprocess.Popen([sys.executable, "-c", _WAITER, url, str(n)], env=env, cwd=_REPO, stdout=subprocess.PIPE)
    released = [float(t) for t in holder.communicate(timeout=120)[0].split()]
    taken = [float(t) for t in waiter.communicate(timeout=120)[0].split()]
    return [(t - max(r for r in released if r <= t)) * 1000 for t in taken if any(r <= t for r in released)]


def _round(url: str, port: int, src: str, procs: int, threads: int, holds: int, hold: float) -> tuple[float, ...]:
    env = {**os.environ, "PYTHONPATH": src}
    argv = [sys.executable, "-c", _CHILD, url, str(threads), str(holds), str(hold)]
    children = [
        subprocess.Popen(argv, env=env, cwd=_REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(procs)
    ]
    for child in children:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    server = postgres_cpu(port)
    go = time.time()
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    reports = [json.loads(child.stdout.readline()) for child in children if child.stdout is not None]
    for child in children:
        child.wait(60)
    wall = max(r["end"] for r in reports) - go
    n = procs * threads * holds
    client_ms = sum(r["cpu"] for r in reports) / n * 1000
    return n * hold / (3 * wall), wall, client_ms, (postgres_cpu(port) - server) / n * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--holds", type=int, default=75, help="holds per thread")
    parser.add_argument("--hold", type=float, default=0.02, help="seconds a slot is held (the latency)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--src", action="append", help="a source tree to import (default: this checkout's)")
    parser.add_argument("--latency", action="store_true", help="time from a release to a waiting process's take")
    parser.add_argument("--handovers", type=int, default=40, help="releases timed a round (--latency)")
    args = parser.parse_args()
    sources = args.src or [str(_REPO / "src")]
    sys.path.insert(0, str(_REPO))
    from tests._postgres import _running_server, fresh_database

    if args.latency:
        with _running_server() as server:
            waits = {src: [] for src in sources}
            for _ in range(args.rounds):
                for src in sources:
                    waits[src] += _latency(fresh_database(server), src, args.handovers)
        print("release -> a waiting process's take (ms)")
        for src, ms in waits.items():
            low, mid, high = statistics.quantiles(ms, n=4)
            print(f"  {src}: median {mid:.1f}, quartiles {low:.1f} and {high:.1f}")
        return 0
    rows: dict[str, list[tuple[float, ...]]] = {src: [] for src in sources}
    with _running_server() as server:
        for _ in range(args.rounds):
            for src in sources:
                url = fresh_database(server)
                rows[src].append(_round(url, server.port, src, args.processes, args.threads, args.holds, args.hold))
    print(f"{args.processes} processes x {args.threads} threads, 3 slots, {args.hold * 1000:.0f} ms holds (medians)")
    for src, results in rows.items():
        use, wall, client, pg = (statistics.median(r[i] for r in results) for i in range(4))
        print(
            f"  {src}: slots used {use:.2f}, wall {wall:.2f} s, cpu per hold: clients {client:.2f} ms, "
            f"postgres {pg:.2f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
