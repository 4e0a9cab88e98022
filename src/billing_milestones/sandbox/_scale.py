"""What ``milestones sandbox serve`` adds for trying a sync at scale: a slow and flaky platform (latency and a
share of 503s on every request), many Autotask contracts of many milestones to sync to as many empty Kantata
workspaces, and, when it stops, what the emulators saw.

Why in the served sandbox rather than only in the benchmark: a script that syncs billing schedules meets a
slow platform that answers 503 now and then, and a tenant of thousands of milestones, long before it meets
the demo's seven; the same served sandbox is what ``benchmarks/scale.py`` syncs against, as a separate
process, so the emulators' CPU is theirs, not shared with the processes that measure them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ..errors import ConfigError
from ._emulator import Emulator
from ._faults import FaultPlan
from .autotask import AutotaskSandbox
from .kantata import KantataSandbox

__all__ = ["ScalePairs", "flaky", "parse_scale", "scale_title", "seed_scale", "served_requests"]

#: ``PAIRSxMILESTONES``, as ``--scale`` takes it.
_SCALE: Final = re.compile(r"([0-9]+)x([0-9]+)")
#: Bounds that keep a sandbox in memory (a milestone is a few kB in all three emulators' tables).
MAX_PAIRS: Final = 10_000
MAX_MILESTONES: Final = 1_000
MAX_TOTAL: Final = 200_000


@dataclass(frozen=True)
class ScalePairs:
    """The pairs ``--scale`` seeded: Autotask contract id -> Kantata workspace id, in order."""

    pairs: tuple[tuple[int, str], ...]
    milestones: int

    def config_lines(self) -> list[str]:
        """The ``[pairs.pNNNN]`` tables of a ``milestones.toml`` that syncs each contract to its workspace."""
        width = max(3, len(str(len(self.pairs) - 1)))
        lines: list[str] = []
        for n, (contract, workspace) in enumerate(self.pairs):
            lines += [
                f"[pairs.p{n:0{width}d}]",
                f'source = "autotask:{contract}"',
                f'target = "kantata:{workspace}"',
                "",
            ]
        return lines

    def to_json(self) -> dict[str, Any]:
        return {"milestones": self.milestones, "pairs": [[contract, workspace] for contract, workspace in self.pairs]}


def parse_scale(text: str) -> tuple[int, int]:
    """``"200x50"`` -> (200, 50); ConfigError naming ``--scale`` and the bounds otherwise."""
    found = _SCALE.fullmatch(text.strip())
    if found is None:
        raise ConfigError(f"--scale: expected PAIRSxMILESTONES such as 200x50, got {text!r}", key="scale")
    pairs, milestones = int(found[1]), int(found[2])
    if not (1 <= pairs <= MAX_PAIRS and 1 <= milestones <= MAX_MILESTONES and pairs * milestones <= MAX_TOTAL):
        raise ConfigError(
            f"--scale: {pairs} pairs of {milestones} milestones is out of bounds (1-{MAX_PAIRS} pairs, "
            f"1-{MAX_MILESTONES} milestones each, {MAX_TOTAL:,} in all)",
            key="scale",
        )
    return pairs, milestones


def flaky(seed: int, latency: float, faults: float) -> FaultPlan:
    """Every request ``latency`` seconds late, and ``faults`` of them (0-1) answered 503, drawn from ``seed``."""
    if not 0 <= latency <= 60:
        raise ConfigError(f"--latency: expected 0-60 seconds, got {latency:g}", key="latency")
    if not 0 <= faults < 1:
        raise ConfigError(f"--faults: expected a share of requests from 0 to below 1, got {faults:g}", key="faults")
    plan = FaultPlan(seed=seed)
    if latency:
        plan.latency(latency)
    if faults:
        plan.status(503, probability=faults)
    return plan


def scale_title(pair: int, milestone: int) -> str:
    """The title ``--scale`` gives milestone ``milestone`` of pair ``pair``'s contract (``P3 M7``): what a check
    of the synced workspaces expects."""
    return f"P{pair} M{milestone}"


def seed_scale(autotask: AutotaskSandbox, kantata: KantataSandbox, pairs: int, milestones: int) -> ScalePairs:
    """``pairs`` Autotask contracts (USD) of ``milestones`` dated milestones each, titled by
    :func:`scale_title`, and as many empty Kantata workspaces to sync them to."""
    seeded: list[tuple[int, str]] = []
    for p in range(pairs):
        contract = autotask.add_contract(name=f"Contract {p}", currency="USD")
        for m in range(milestones):
            autotask.add_milestone(
                contract, title=scale_title(p, m), amount=f"{100 + m}.25", date_due=dt.date(2027, 1, 1 + m % 28)
            )
        seeded.append((contract, kantata.add_workspace(f"Project {p}", currency="USD")))
    return ScalePairs(tuple(seeded), milestones)


def served_requests(emulators: Mapping[str, Emulator]) -> dict[str, dict[str, Any]]:
    """Per platform: the requests served, by status, how many of those a fault answered, and how many the
    platform's own limits refused (a 429 no fault drew: Autotask's threads per endpoint, its hourly
    threshold)."""
    out: dict[str, dict[str, Any]] = {}
    for name, emulator in emulators.items():
        log = list(emulator.request_log)
        statuses = Counter(str(entry.status) for entry in log)
        out[name] = {
            "requests": len(log),
            "statuses": dict(sorted(statuses.items())),
            "faults": sum(1 for entry in log if entry.fault is not None),
            "refused_by_limits": sum(1 for entry in log if entry.status == 429 and entry.fault is None),
        }
    return out
