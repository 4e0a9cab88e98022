"""What applying a plan did, action by action: the results ``apply_plan`` returns and ``milestones sync``,
the run history and a worker's job read.

A failed action keeps the exception its write failed with (``cause``) beside the text: whether running
the pair again could mend the failure is read from the exception's type and status (a worker retries a
platform that was down, not one that refused the milestone itself: ``workers._run``), never from its words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import errors
from ..model import Milestone
from .plan import ActionKind, PlannedAction, SyncPlan

__all__ = ["ActionResult", "ApplyResult"]


@dataclass(frozen=True)
class ActionResult:
    action: PlannedAction
    ok: bool
    result: Milestone | None = None
    error: str | None = None
    wrote: bool = False
    #: The exception the write failed with, where one did (None: a failure found without one, such as a
    #: milestone crm.com's estimate left out). Not part of the JSON: ``error`` is its text.
    cause: errors.BillingMilestonesError | None = field(default=None, compare=False, repr=False)


@dataclass
class ApplyResult:
    plan: SyncPlan
    dry_run: bool = False
    results: list[ActionResult] = field(default_factory=list)

    def count(self, kind: ActionKind, *, ok: bool = True) -> int:
        return sum(1 for r in self.results if r.action.kind is kind and r.ok is ok)

    @property
    def failures(self) -> list[ActionResult]:
        return [r for r in self.results if not r.ok]

    @property
    def writes(self) -> int:
        return sum(1 for r in self.results if r.wrote)

    @property
    def ok(self) -> bool:
        """No failures and no findings left (conflicts, duplicates not removed)."""
        return not self.failures and not self.plan.findings

    def to_json(self) -> dict[str, Any]:
        return {
            "pair": self.plan.pair.id,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "writes": self.writes,
            "counts": self.plan.counts(),
            "failures": [
                {"sync_key": r.action.sync_key, "title": r.action.title, "error": r.error} for r in self.failures
            ],
            "conflicts": [a.to_json() for a in self.plan.conflicts],
            "duplicates": [a.to_json() for a in self.plan.duplicates],
            "notes": list(self.plan.notes),
        }
