"""The CPU a thread spent, counting the helper threads it started for its own work.

A worker times each job's phases by its thread's CPU (``time.thread_time``: the process's CPU counts every
job at once), and a phase's wall time minus its CPU time reads as what it waited for. But a pair run hands
work to helper threads: the target side is read on a thread of its own while the source is read
(``load_sides(parallel=True)``), and updates and deletes go out on a small pool (``max_in_flight``). Their
CPU (parsing the target's pages, building its rows) was in no job's figures, and read as waiting. A helper
runs its work through :func:`on_behalf`, which adds the CPU it spent to the account of the thread that made
the wrapper; :func:`thread_cpu` is that thread's own CPU plus what its helpers added, once they finished.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

__all__ = ["on_behalf", "thread_cpu"]

P = ParamSpec("P")
T = TypeVar("T")


class _Account:
    """What helpers spent for one thread (they finish on their own threads: added under a lock)."""

    __slots__ = ("lock", "seconds")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seconds = 0.0

    def add(self, seconds: float) -> None:
        with self.lock:
            self.seconds += seconds


_local = threading.local()


def _account() -> _Account:
    account: _Account | None = getattr(_local, "account", None)
    if account is None:
        account = _local.account = _Account()
    return account


def thread_cpu() -> float:
    """This thread's CPU seconds (``time.thread_time``) plus those its finished helpers spent for it."""
    account: _Account | None = getattr(_local, "account", None)
    return time.thread_time() + (account.seconds if account is not None else 0.0)


def on_behalf(work: Callable[P, T]) -> Callable[P, T]:
    """``work``, to run on a helper thread: the CPU each call spends there is added to the calling thread's
    :func:`thread_cpu` when the call ends (raised or not)."""
    account = _account()

    @functools.wraps(work)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        started = time.thread_time()
        try:
            return work(*args, **kwargs)
        finally:
            account.add(time.thread_time() - started)

    return run
