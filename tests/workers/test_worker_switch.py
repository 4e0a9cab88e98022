"""A worker runs with a short thread switch interval (a thread whose response arrived gets the GIL within a
millisecond, not five, while another job computes), and gives the caller's interval back when it stops."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine, Iterator
from typing import Any

import pytest

from billing_milestones.workers import _worker


class _Closed:
    def __init__(self) -> None:
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


class _Worker:
    """What run_worker touches outside its event loop."""

    def __init__(self) -> None:
        self.budgets, self.stores = _Closed(), _Closed()
        self.stalled_after = 30.0  # what the heartbeat is checked against


@pytest.fixture
def interval() -> Iterator[float]:
    previous = sys.getswitchinterval()
    yield previous
    sys.setswitchinterval(previous)


def _run(monkeypatch: pytest.MonkeyPatch, *, fail: bool = False) -> tuple[list[float], _Worker]:
    seen: list[float] = []

    def run(main: Coroutine[Any, Any, None]) -> None:
        main.close()
        seen.append(sys.getswitchinterval())
        if fail:
            raise RuntimeError("the loop failed")

    monkeypatch.setattr(asyncio, "run", run)
    worker = _Worker()
    if fail:
        with pytest.raises(RuntimeError):
            _worker.run_worker(worker, burst=True)  # type: ignore[arg-type]
    else:
        _worker.run_worker(worker, burst=True)  # type: ignore[arg-type]
    return seen, worker


def test_a_worker_runs_with_a_one_millisecond_switch_interval_and_restores_the_callers(
    monkeypatch: pytest.MonkeyPatch, interval: float
) -> None:
    sys.setswitchinterval(0.005)
    seen, worker = _run(monkeypatch)
    assert seen == [pytest.approx(_worker.SWITCH_INTERVAL)] and _worker.SWITCH_INTERVAL == 0.001
    assert sys.getswitchinterval() == pytest.approx(0.005)
    assert (worker.budgets.closed, worker.stores.closed) == (1, 1)


def test_a_shorter_interval_the_caller_set_is_kept_and_a_failed_run_restores_it(
    monkeypatch: pytest.MonkeyPatch, interval: float
) -> None:
    sys.setswitchinterval(0.0005)
    seen, worker = _run(monkeypatch, fail=True)
    assert seen == [pytest.approx(0.0005, abs=2e-6)]
    assert sys.getswitchinterval() == pytest.approx(0.0005, abs=2e-6)
    assert (worker.budgets.closed, worker.stores.closed) == (1, 1)
