"""The emulators' CPU per request, as the scale run spends it: the server process's CPU time over the requests
it answered, for the requests the scale run's workers send (Autotask -> Kantata pairs synced by
``run_pair``, 20 ms latency, 5 % injected 503s), against the emulators served on loopback in their own process.
It prints the first round's requests by kind: per pair the scale run's Autotask query of 50, empty Kantata
listing, workspace GET and bulk POST of 50, plus the metadata reads and the injected 503s and their retries.

With ``--before SRC`` a second server runs the emulators from another checkout's ``src`` (e.g. a
``git worktree add /tmp/wt HEAD``) in alternating rounds, so both see the same machine. Figures are medians
of the rounds; never asserted anywhere.

.venv/bin/python benchmarks/sandbox_cpu.py --before /tmp/wt-sandbox/src --before-h11 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from billing_milestones.demo import sandbox_environment
from billing_milestones.sync.config import load_settings
from billing_milestones.sync.store import LinkStore
from billing_milestones.workers import run_pair
from billing_milestones.workers._run import TRANSIENT

#: The server: the emulators seeded as benchmarks/scale.py seeds them, under uvicorn on loopback; it prints its
#: URL and the pairs' config lines, then answers each line on stdin with its CPU seconds and request counts.
_SERVER = """
import datetime as dt, json, re, sys, time
src, pairs, milestones, latency, fault_rate, pure = sys.argv[1], *map(float, sys.argv[2:7])
if src:
    sys.path.insert(0, src)
if pure:  # as before the sandbox extra brought them: uvicorn falls back to h11 on asyncio
    sys.modules["httptools"] = sys.modules["uvloop"] = None
from billing_milestones.sandbox import AutotaskSandbox, FaultPlan, KantataSandbox, LoopbackServer
from billing_milestones.sandbox._asgi import combined_app
autotask = AutotaskSandbox(faults=FaultPlan(seed=7).latency(latency).status(503, probability=fault_rate))
kantata = KantataSandbox(faults=FaultPlan(seed=8).latency(latency).status(503, probability=fault_rate))
lines = []
for p in range(int(pairs)):
    contract = autotask.add_contract(name=f"Contract {p}", currency="USD")
    for m in range(int(milestones)):
        due = dt.date(2027, 1, 1 + m % 28)
        autotask.add_milestone(contract, title=f"P{p} M{m}", amount=f"{100 + m}.25", date_due=due)
    workspace = kantata.add_workspace(f"Project {p}", currency="USD")
    lines += [f"[pairs.p{p:03d}]", f'source = "autotask:{contract}"', f'target = "kantata:{workspace}"', ""]
app = combined_app({"/kantata": kantata.asgi_app(), "/autotask": autotask.asgi_app()})
with LoopbackServer(app) as server:
    print(json.dumps({"url": server.url, "lines": lines}), flush=True)
    for _ in sys.stdin:
        mix = {}
        for name, emulator in (("autotask", autotask), ("kantata", kantata)):
            for e in emulator.request_log:
                answer = f"injected {e.fault}" if e.fault else str(e.status)
                kind = f"{name} {e.method} {re.sub(r'/[0-9]+', '/{id}', e.path)} {answer}"
                mix[kind] = mix.get(kind, 0) + 1
        print(json.dumps({"cpu": time.process_time(), "autotask": len(autotask.request_log),
                          "kantata": len(kantata.request_log), "mix": mix}), flush=True)
"""


class Server:
    """One emulator server process; :meth:`stats` reads its CPU seconds and request counts so far."""

    def __init__(self, src: str, pairs: int, milestones: int, latency: float, faults: float, pure: bool) -> None:
        argv = [sys.executable, "-c", _SERVER, src, str(pairs), str(milestones), str(latency), str(faults)]
        argv.append(str(int(pure)))
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        hello = json.loads(self.proc.stdout.readline())
        self.url: str = hello["url"]
        self.lines: list[str] = hello["lines"]

    def stats(self) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        return dict(json.loads(self.proc.stdout.readline()))

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def _sync_all(server: Server, tmp: Path, threads: int, pairs: int) -> None:
    """The first ``pairs`` pairs synced once by ``run_pair`` (what a worker runs), a failed run retried as a
    worker would."""
    config = tmp / "milestones.toml"
    config.write_text("\n".join([f"links = {json.dumps(str(tmp / 'links.db'))}", "", *server.lines[: 4 * pairs]]))
    settings = load_settings(config, env=sandbox_environment(server.url))

    def one(name: str) -> None:
        for _ in range(20):
            try:
                run_pair(settings, name)
                return
            except TRANSIENT:
                continue
        raise RuntimeError(f"pair {name} did not sync in 20 attempts")

    # The store made once before the threads: three first opens of one new SQLite file at once can each find
    # no schema version and insert it (UNIQUE constraint failed: meta.key), which is not what is measured here.
    with LinkStore(settings.links):
        pass
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, sorted(settings.pairs)))


def measure(src: str, args: argparse.Namespace, *, pure: bool = False) -> dict[str, Any]:
    """One round: a fresh server, every pair synced; the server's CPU per request over the syncs."""
    server = Server(src, args.seeded, args.milestones, args.latency, args.faults, pure)
    try:
        with tempfile.TemporaryDirectory(prefix="bm-sandbox-cpu-") as tmp:
            before = server.stats()
            _sync_all(server, Path(tmp), args.threads, args.pairs)
            after = server.stats()
    finally:
        server.close()
    requests = after["autotask"] + after["kantata"] - before["autotask"] - before["kantata"]
    mix = {k: n - before["mix"].get(k, 0) for k, n in after["mix"].items() if n > before["mix"].get(k, 0)}
    return {
        "cpu_ms_per_request": (after["cpu"] - before["cpu"]) / requests * 1e3,
        "requests": requests,
        "autotask": after["autotask"] - before["autotask"],
        "kantata": after["kantata"] - before["kantata"],
        "mix": mix,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=30, help="pairs synced a round")
    parser.add_argument("--seeded", type=int, default=200, help="pairs seeded (the stores' size: the scale run's)")
    parser.add_argument("--milestones", type=int, default=50)
    parser.add_argument("--threads", type=int, default=3, help="pairs synced at once (Autotask allows 3)")
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--faults", type=float, default=0.05)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--before", metavar="SRC", help="another checkout's src/ to measure beside this one")
    parser.add_argument(
        "--before-h11",
        action="store_true",
        help="serve the other checkout on h11 and asyncio (without httptools, uvloop)",
    )
    args = parser.parse_args()
    args.seeded = max(args.seeded, args.pairs)
    sides: dict[str, str] = {"after": ""}
    if args.before:
        sides = {"before": args.before, **sides}
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in sides}
    for _ in range(args.rounds):
        for name, src in sides.items():
            results[name].append(measure(src, args, pure=name == "before" and args.before_h11))
    summary: dict[str, Any] = {}
    for name, runs in results.items():
        per = sorted(r["cpu_ms_per_request"] for r in runs)
        summary[name] = per
        requests = statistics.median(r["requests"] for r in runs)
        print(
            f"{name}: server CPU {statistics.median(per):.3f} ms/request (median of {len(per)}; "
            f"{', '.join(f'{v:.3f}' for v in per)}), ~{requests:.0f} requests a round "
            f"({runs[0]['autotask']:.0f} Autotask, {runs[0]['kantata']:.0f} Kantata in the first)"
        )
    mix = results["after"][0]["mix"]
    print("the first round's requests by kind (per pair: a query, a listing, a workspace, a bulk POST):")
    for kind, count in sorted(mix.items(), key=lambda kv: -kv[1]):
        print(f"  {count:5d}  {kind}")
    if "before" in summary:
        print(f"after / before: {statistics.median(summary['after']) / statistics.median(summary['before']):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
