"""Chaos run: real `milestones sync` processes, killed at random, overlapping, against a faulty sandbox.

What it proves, with figures it prints rather than timings it asserts: however often a sync is SIGKILLed,
however many runs of one pair start at once, and however many requests fail, are throttled or lose their
response after the server acted, every source milestone ends up on the target exactly once (0 duplicates,
0 lost) once the faults stop. Two pairs run: Autotask -> Kantata (bulk creates of 100) and Kantata ->
Autotask (one create per request, three in flight), sharing one SQLite link store.

    python chaos/run.py                     # the full run (make chaos): 1,000 milestones a pair, 18 kills
    python chaos/run.py --size 40 --kills 3 # the reduced run CI does

Exit code 0 when the end state is exact, 1 otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from billing_milestones.demo import sandbox_environment, sandboxes_app
from billing_milestones.sandbox import AutotaskSandbox, CrmComSandbox, FaultPlan, KantataSandbox, LoopbackServer

PAIRS = ("a2k", "k2a")
#: Seconds a killed run's pending writes are given to land before a rerun lists the target (``write_settle``;
#: 96 s by default, the clients' longest request). The emulators answer on loopback within milliseconds (2 ms
#: of added latency, a bulk create of 100 in well under a second), so a killed run's request is served long
#: before 2 s: the reruns still wait for it (and must adopt, not create again), without a 96 s pause each.
WRITE_SETTLE = 2.0


@dataclass
class ChaosReport:
    """What happened, and whether the end state is exact."""

    size: int
    fault_rate: float
    runs: int = 0
    kills: int = 0
    overlaps: int = 0
    exit_codes: dict[str, int] = field(default_factory=dict)
    faults_injected: int = 0
    duplicates: dict[str, int] = field(default_factory=dict)
    lost: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    write_settle: float = WRITE_SETTLE

    @property
    def ok(self) -> bool:
        return not any(self.duplicates.values()) and not any(self.lost.values())


class World:
    """Two source containers of ``size`` milestones each and their empty targets, on one loopback server."""

    def __init__(self, size: int, rng: random.Random) -> None:
        self.kantata, self.autotask = KantataSandbox(), AutotaskSandbox()
        self.contract = self.autotask.add_contract(name="Chaos source", currency="USD")
        self.target_contract = self.autotask.add_contract(name="Chaos target", currency="USD")
        self.workspace = self.kantata.add_workspace("Chaos source", currency="USD")
        self.target_workspace = self.kantata.add_workspace("Chaos target", currency="USD")
        start = dt.date(2027, 1, 1)
        for i in range(size):
            due = start + dt.timedelta(days=i)
            cents = rng.randrange(1_000, 5_000_000)
            amount = f"{cents // 100}.{cents % 100:02d}"
            self.autotask.add_milestone(self.contract, title=f"AT instalment {i:05d}", amount=amount, date_due=due)
            self.kantata.add_milestone(self.workspace, f"KO instalment {i:05d}", cents, date_to_invoice=due)
        self.server = LoopbackServer(sandboxes_app(self.kantata, self.autotask, CrmComSandbox()))

    def config(self, folder: Path) -> Path:
        path = folder / "milestones.toml"
        path.write_text(
            f"""links = "links.sqlite3"

[autotask]
currency = "USD"

[pairs.a2k]
source = "autotask:{self.contract}"
target = "kantata:{self.target_workspace}"
allow_drop = true
write_settle = {WRITE_SETTLE}

[pairs.k2a]
source = "kantata:{self.workspace}"
target = "autotask:{self.target_contract}"
write_settle = {WRITE_SETTLE}
"""
        )
        return path

    def faulty(self, rate: float, seed: int) -> None:
        """Every request may fail (503), be throttled (429) or lose its response after the server acted."""
        for sandbox in (self.kantata, self.autotask):
            sandbox.faults = (
                FaultPlan(seed=seed)
                .latency(0.002)
                .status(503, probability=rate / 2)
                .rate_limit(retry_after=0.01, probability=rate / 4)
                .drop(probability=rate / 4)
            )

    def calm(self) -> None:
        for sandbox in (self.kantata, self.autotask):
            sandbox.faults = FaultPlan()

    def injected(self) -> int:
        return sum(
            1 for s in (self.kantata, self.autotask) for r in s.faults.history if r.fault.kind.value != "latency"
        )

    def outcome(self) -> dict[str, tuple[Counter[str], set[str]]]:
        """Per pair: how often each title is on the target, and the titles the source has."""
        a2k = Counter(
            m["title"] for m in self.kantata.milestones.values() if str(m["workspace_id"]) == self.target_workspace
        )
        k2a = Counter(m["title"] for m in self.autotask.milestones.values() if m["contractID"] == self.target_contract)
        a_src = {m["title"] for m in self.autotask.milestones.values() if m["contractID"] == self.contract}
        k_src = {m["title"] for m in self.kantata.milestones.values() if str(m["workspace_id"]) == self.workspace}
        return {"a2k": (a2k, a_src), "k2a": (k2a, k_src)}


def _start(pair: str, cfg: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "billing_milestones", "sync", pair, "--config", str(cfg), "--yes", "--json"]
    return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)


def run_chaos(*, size: int, kills: int, fault_rate: float, seed: int, max_runs: int = 400) -> ChaosReport:
    rng = random.Random(seed)
    report = ChaosReport(size=size, fault_rate=fault_rate)
    world = World(size, rng)
    began = time.monotonic()
    codes: Counter[int] = Counter()
    with tempfile.TemporaryDirectory(prefix="bm-chaos-") as tmp, world.server:
        cfg = world.config(Path(tmp))
        env = {**os.environ, **sandbox_environment(world.server.url), "COLUMNS": "200"}
        world.faulty(fault_rate, seed)
        # Phase 1: kills. Each round starts one or two runs of a pair and kills one of them at a random moment.
        while report.kills < kills and report.runs < max_runs:
            pair = rng.choice(PAIRS)
            procs = [_start(pair, cfg, env)]
            if rng.random() < 0.3:
                procs.append(_start(pair, cfg, env))  # an overlapping run of the same pair
                report.overlaps += 1
            report.runs += len(procs)
            time.sleep(rng.uniform(0.4, 2.5))
            victim = procs[0]
            if victim.poll() is None:
                victim.send_signal(signal.SIGKILL)
                report.kills += 1
            for proc in procs:
                codes[proc.wait(timeout=300)] += 1
        # Phase 2: the faults go on, no more kills; every pair is run until it succeeds.
        for pair in PAIRS:
            for _ in range(30):
                report.runs += 1
                code = _start(pair, cfg, env).wait(timeout=600)
                codes[code] += 1
                if code == 0:
                    break
        report.faults_injected = world.injected()
        # Phase 3: the faults stop; one more run of each pair must succeed and leave the exact end state.
        world.calm()
        for pair in PAIRS:
            report.runs += 1
            codes[_start(pair, cfg, env).wait(timeout=600)] += 1
        for pair, (on_target, in_source) in world.outcome().items():
            report.duplicates[pair] = sum(n - 1 for n in on_target.values() if n > 1)
            report.lost[pair] = len(in_source - set(on_target))
    report.exit_codes = {str(code): n for code, n in sorted(codes.items())}
    report.seconds = round(time.monotonic() - began, 1)
    return report


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--size", type=int, default=1000, help="milestones per source container")
    parser.add_argument("--kills", type=int, default=18, help="SIGKILLs to deliver mid-run")
    parser.add_argument("--fault-rate", type=float, default=0.2, help="share of requests that fail")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    report = run_chaos(size=args.size, kills=args.kills, fault_rate=args.fault_rate, seed=args.seed)
    if args.json:
        _say(json.dumps({**asdict(report), "ok": report.ok}))
    else:
        _say(
            f"chaos: {report.size} milestones x 2 pairs, {report.kills} kills, {report.overlaps} overlapping "
            f"starts, {report.runs} runs (exit codes {report.exit_codes}), {report.faults_injected} faults "
            f"injected, {report.seconds} s (write_settle {report.write_settle:g} s: loopback emulators)"
        )
        _say(f"duplicates {report.duplicates}, lost {report.lost}: {'OK' if report.ok else 'FAILED'}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
