"""Flows: a multi-step call written once, for the sync and the async runner alike.

A flow is a generator that yields :class:`Operation` values and receives each one's result (or has the
failure thrown into it, as an :class:`~billing_milestones.errors.APIError`), then returns its own result, the
way httpx's ``Auth.auth_flow`` yields requests. It holds every decision and does no network I/O, so one flow
serves ``SyncRunner.run_flow`` and ``AsyncRunner.run_flow``; only the waiting differs. Other blocking work (a
read or write of the link store's metadata tier) is yielded as :class:`Blocking`: the sync runner calls it in
place, the async runner in a worker thread, so a database never holds up the event loop.

:class:`RunnerHooks` are the flows a client runs around each of its requests: Autotask finds its zone before
the first request and looks it up again after an unexpected 401; crm.com renews a contact token shortly
before it expires. A runner runs them under one lock shared with its ``with_options`` copies, so two threads
(or tasks) never discover a zone or renew a token twice over.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .. import errors
from ._request import Operation

if TYPE_CHECKING:
    from ._core import ClientCore

__all__ = ["Blocking", "Flow", "RunnerHooks", "blocking", "called", "just", "one"]

T = TypeVar("T")


@dataclass(frozen=True)
class Blocking(Generic[T]):
    """A blocking call a flow needs made (its result sent back, its exception thrown in where it yielded):
    in place by the sync runner, in a worker thread by the async one (``asyncio.to_thread``)."""

    call: Callable[[], T]


#: Yields operations (and blocking calls), receives their results, returns a T.
Flow = Generator[Operation[Any] | Blocking[Any], Any, T]


def just(value: T) -> Flow[T]:
    """A flow that sends nothing and returns ``value``."""
    return value
    yield  # pragma: no cover - makes this a generator


def called(call: Callable[[], Any]) -> tuple[Any, Exception | None]:
    """A :class:`Blocking` step's call made: (its result, None), or (None, the exception it raised), which the
    runner throws into the flow where it yielded, as if the call had been made there."""
    try:
        return call(), None
    except Exception as exc:
        return None, exc


def blocking(call: Callable[[], T]) -> Flow[T]:
    """A flow of one blocking call (see :class:`Blocking`)."""
    result: T = yield Blocking(call)
    return result


def one(op: Operation[T]) -> Flow[T]:
    """A flow of one operation."""
    result: T = yield op
    return result


class RunnerHooks:
    """What a client does around its requests. The defaults do nothing (Kantata needs nothing).

    ``ready`` is asked before every request without any lock: it must be cheap. Only when it says no does
    the runner take its lock and run ``prepare``, whose operations go out without hooks; ``prepare`` returns
    the core to send with (e.g. with the zone's base URL). After a failed request ``recover`` may return a
    core to send it once more with, or None to let the failure stand.
    """

    def ready(self, core: ClientCore) -> bool:
        return True

    def prepare(self, core: ClientCore) -> Flow[ClientCore]:
        return just(core)

    def recover(self, exc: errors.APIError, used: ClientCore, core: ClientCore) -> Flow[ClientCore | None]:
        return just(None)
