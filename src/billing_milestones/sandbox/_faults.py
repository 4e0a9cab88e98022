"""Seeded fault injection: the same seed and requests give the same faults, so failures are repeatable."""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["Fault", "FaultKind", "FaultPlan", "FaultRule"]


class FaultKind(StrEnum):
    LATENCY = "latency"
    RATE_LIMIT = "rate_limit"
    STATUS = "status"
    #: The connection is refused before the request reaches the emulator: nothing happened server-side.
    REFUSE = "refuse"
    #: The emulator handles the request, then the connection drops before the response: the dangerous case.
    DROP = "drop"
    #: The emulator handles the request, then the response never arrives in time (a read timeout).
    READ_TIMEOUT = "read_timeout"


_AFTER_HANDLING = frozenset({FaultKind.DROP, FaultKind.READ_TIMEOUT})


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    status: int | None = None
    retry_after: float | None = None
    delay: float = 0.0

    @property
    def after_handling(self) -> bool:
        """True when the emulator's state changes before the fault strikes."""
        return self.kind in _AFTER_HANDLING


@dataclass
class FaultRule:
    fault: Fault
    probability: float = 1.0
    times: int | None = None
    after: int = 0
    method: str | None = None
    path: str | None = None
    _seen: int = field(default=0, init=False)
    _fired: int = field(default=0, init=False)

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or re.search(self.path, path) is not None


@dataclass(frozen=True)
class FaultRecord:
    method: str
    path: str
    fault: Fault


class FaultPlan:
    """An ordered list of fault rules, drawn with a seeded RNG.

    Rules match by method and a path regex; ``after`` skips the first N matching requests and ``times``
    bounds how often a rule fires. Latency stacks with one other fault; the first other rule that fires wins.

    ```pycon
    >>> plan = FaultPlan(seed=7).rate_limit(times=2, retry_after=1).status(503, times=1, method="GET")
    >>> len(plan.rules)
    2

    ```
    """

    def __init__(self, seed: int = 0, rules: list[FaultRule] | None = None) -> None:
        self.seed = seed
        self._rng = random.Random(seed)
        self.rules: list[FaultRule] = list(rules or [])
        self.history: list[FaultRecord] = []
        self._lock = threading.Lock()

    # -- building -----------------------------------------------------------------------------------
    def add(
        self,
        fault: Fault,
        *,
        probability: float = 1.0,
        times: int | None = None,
        after: int = 0,
        method: str | None = None,
        path: str | None = None,
    ) -> FaultPlan:
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"probability must be within 0..1, got {probability}")
        self.rules.append(FaultRule(fault, probability, times, after, method, path))
        return self

    def latency(self, seconds: float, **match: object) -> FaultPlan:
        return self.add(Fault(FaultKind.LATENCY, delay=seconds), **match)  # type: ignore[arg-type]

    def rate_limit(self, *, retry_after: float | None = 1.0, **match: object) -> FaultPlan:
        return self.add(Fault(FaultKind.RATE_LIMIT, status=429, retry_after=retry_after), **match)  # type: ignore[arg-type]

    def status(self, status: int, **match: object) -> FaultPlan:
        if status not in (500, 502, 503, 504):
            raise ValueError(f"status faults are 500, 502, 503 or 504, got {status}")
        return self.add(Fault(FaultKind.STATUS, status=status), **match)  # type: ignore[arg-type]

    def refuse(self, **match: object) -> FaultPlan:
        return self.add(Fault(FaultKind.REFUSE), **match)  # type: ignore[arg-type]

    def drop(self, **match: object) -> FaultPlan:
        return self.add(Fault(FaultKind.DROP), **match)  # type: ignore[arg-type]

    def read_timeout(self, *, delay: float = 0.0, **match: object) -> FaultPlan:
        return self.add(Fault(FaultKind.READ_TIMEOUT, delay=delay), **match)  # type: ignore[arg-type]

    # -- drawing ------------------------------------------------------------------------------------
    def draw(self, method: str, path: str) -> tuple[float, Fault | None]:
        """Total latency to add, and the fault (if any) for one request."""
        delay = 0.0
        chosen: Fault | None = None
        with self._lock:
            for rule in self.rules:
                if not rule.matches(method, path):
                    continue
                rule._seen += 1
                if rule._seen <= rule.after:
                    continue
                if rule.times is not None and rule._fired >= rule.times:
                    continue
                if rule.fault.kind is not FaultKind.LATENCY and chosen is not None:
                    continue
                if self._rng.random() >= rule.probability:
                    continue
                rule._fired += 1
                self.history.append(FaultRecord(method, path, rule.fault))
                if rule.fault.kind is FaultKind.LATENCY:
                    delay += rule.fault.delay
                else:
                    chosen = rule.fault
        return delay, chosen

    def fired(self, kind: FaultKind | None = None) -> int:
        return sum(1 for r in self.history if kind is None or r.fault.kind is kind)
