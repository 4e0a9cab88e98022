"""A worker cancelled while its run still waits for its jobs (asyncio cancels ``main()`` at a second Ctrl-C)
stops the run before the watch: the watch keeps the worker's heartbeat until the run has ended.

Watch first, and the jobs the cancelled run waits for ran without a heartbeat: procrastinate's own stopped
at the first signal, so a pair still running ``stalled_after`` later was sent back to the queue by another
worker while it ran (see ``WorkerApp.watch_stalled_async``). Driven here without signals: a stand-in for
the worker whose run cancels ``main()`` as a second Ctrl-C does, and whose cancelled run waits for a job
that ends once the watch has beaten while it waited (or gives up after a bounded number of loop turns)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any, cast

import pytest

from billing_milestones.workers import WorkerApp, run_worker

#: The watch's beats the job waited for needs while the run waits for it (beats come one per loop turn).
_BEATS_THE_JOB_NEEDS = 3
#: Loop turns the stand-in run waits at most for them: with no watch beating, the run ends after these.
_TURNS = 200


class _Closed:
    def close(self) -> None:
        pass


class _StandIn:
    """What ``run_worker`` calls on a :class:`WorkerApp`, each step logged."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.beats = 0
        self.beats_while_waiting: int | None = None
        self.main: asyncio.Task[Any] | None = None
        self.workers = SimpleNamespace(queue="test")
        self.stalled_after = 30.0
        self.budgets, self.stores = _Closed(), _Closed()
        self.app = SimpleNamespace(open_async=self._open, run_worker_async=self._run)
        self.jobs = SimpleNamespace(running=set(), on_idle=None)  # a burst worker's end (none here)

    def new_liveness(self) -> SimpleNamespace:
        return SimpleNamespace(fenced=asyncio.Event())

    async def ensure_schema_async(self) -> None:
        pass

    async def recover_async(self) -> None:
        pass

    def warm_up(self, *, stores: int) -> None:
        self.main = asyncio.current_task()  # called from main() itself, which a second Ctrl-C cancels

    @contextlib.asynccontextmanager
    async def _open(self) -> AsyncIterator[None]:
        yield

    async def watch_stalled_async(self, *, heartbeat: float | None = None) -> None:
        try:
            while True:
                self.beats += 1
                await asyncio.sleep(0)
        except asyncio.CancelledError:
            self.log.append("watch cancelled")
            raise

    async def _run(self, **options: Any) -> None:
        self.log.append("run started")
        assert self.main is not None
        self.main.cancel()  # the second Ctrl-C: asyncio cancels main() while the run still has a job
        try:
            await asyncio.Event().wait()  # taking jobs until stopped
        except asyncio.CancelledError:
            # As procrastinate's run does once cancelled: it waits for the job it is running, which runs on
            # only while the worker's heartbeat does.
            self.log.append("run cancelled")
            start = self.beats
            for _ in range(_TURNS):
                if self.beats - start >= _BEATS_THE_JOB_NEEDS:
                    break
                await asyncio.sleep(0)
            self.beats_while_waiting = self.beats - start
            self.log.append("run ended")
            raise


def test_a_worker_cancelled_mid_run_keeps_the_watch_until_its_run_has_ended() -> None:
    worker = _StandIn()
    with pytest.raises(asyncio.CancelledError):
        run_worker(cast(WorkerApp, worker), install_signal_handlers=False)
    assert worker.log == ["run started", "run cancelled", "run ended", "watch cancelled"]
    assert worker.beats_while_waiting == _BEATS_THE_JOB_NEEDS  # the heartbeat went on while the run waited
