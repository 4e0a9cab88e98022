"""Where a job's time goes: each phase of a pair run timed by the wall clock and by this thread's CPU.

A worker's run is mostly waiting (on a platform, on the shared budgets, on the database), and a run that is
slow must say on what: one structured INFO record per job on the ``billing_milestones.workers`` logger
(``bm_event`` ``"pair_job"``; ``bm_pair``, the pair's name in the config; ``bm_pair_id``, its identity as the
run's ``sync_run`` record and history row name it, None when the job stopped before resolving it; ``bm_ok``;
``bm_wall_s`` and ``bm_cpu_s`` for the whole job;
``bm_phase_<name>_s`` and ``bm_phase_<name>_cpu_s`` for each phase). A phase's wall time minus its CPU time
is what it waited. The CPU is the job thread's and that of the helper threads it ran work on (the target's
read, the pool of updates and deletes: ``sync._thread_cpu``), not the process's, which counts every job
running at once. Nothing is measured when the logger would drop the record (one level check).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from typing import Any, Final

from ..sync._thread_cpu import thread_cpu

__all__ = ["JOB_LOGGER", "PhaseClock"]

JOB_LOGGER: Final = "billing_milestones.workers"
logger: Final = logging.getLogger(JOB_LOGGER)


class PhaseClock:
    """The phases of one job, in order: ``with clock.phase("load"): ...``; ``clock.log(ok=...)`` at the end."""

    __slots__ = ("_cpu", "_start", "enabled", "pair", "pair_id", "phases")

    def __init__(self, pair: str) -> None:
        self.pair = pair
        #: The pair's identity once resolved (``autotask:1->kantata:2``): what joins this record to its run's.
        self.pair_id: str | None = None
        self.enabled = logger.isEnabledFor(logging.INFO)
        self.phases: dict[str, tuple[float, float]] = {}
        self._start = time.perf_counter()
        self._cpu = thread_cpu()

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        if not self.enabled:
            yield
            return
        wall, cpu = time.perf_counter(), thread_cpu()
        try:
            yield
        finally:
            spent_wall, spent_cpu = self.phases.get(name, (0.0, 0.0))
            self.phases[name] = (
                spent_wall + time.perf_counter() - wall,
                spent_cpu + thread_cpu() - cpu,
            )

    def fields(self, *, ok: bool) -> dict[str, Any]:
        """The record's ``extra``: whole-job figures, then one pair of figures per phase."""
        fields: dict[str, Any] = {
            "bm_event": "pair_job",
            "bm_pair": self.pair,
            "bm_pair_id": self.pair_id,
            "bm_ok": ok,
            "bm_wall_s": round(time.perf_counter() - self._start, 6),
            "bm_cpu_s": round(thread_cpu() - self._cpu, 6),
        }
        for name, (wall, cpu) in self.phases.items():
            fields[f"bm_phase_{name}_s"] = round(wall, 6)
            fields[f"bm_phase_{name}_cpu_s"] = round(cpu, 6)
        return fields

    def log(self, *, ok: bool) -> None:
        if not self.enabled:
            return
        fields = self.fields(ok=ok)
        phases = ", ".join(f"{name} {wall:.3f}" for name, (wall, _) in self.phases.items())
        logger.info(
            "pair %s: job %s in %.3f s (cpu %.3f s; %s)",
            self.pair,
            "done" if ok else "failed",
            fields["bm_wall_s"],
            fields["bm_cpu_s"],
            phases,
            extra=fields,
        )
