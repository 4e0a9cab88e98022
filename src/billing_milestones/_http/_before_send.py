"""A hook asked right before each attempt of a request that may write is sent: how a caller that must still
own what it writes (the sync engine, under a pair's lease) gets the last word on every attempt.

The sync engine records an intent, then makes a write call through a client's view; inside that call the
runner may wait a long time before an attempt goes out (a request budget, a shared slot limiter, a 429/503's
``Retry-After``, each for up to minutes) and may send the request several times. Only the runner knows when
an attempt is about to leave, so the hook is asked there, after every wait, as the last thing before the send:

- ``with before_send(hook):`` sets the hook for the calls made in this context (a :class:`~contextvars.
  ContextVar`: this thread, or this asyncio task and the tasks it starts), and unsets it after;
- both runners ask ``hook(spec)`` before each attempt (first and retries) of a request that may write: any
  method but GET, HEAD and OPTIONS, carrying credentials (a token renewal or zone discovery writes nothing of
  the caller's). It runs no I/O itself: it returns None (send now) or a :class:`~._flow.Blocking` call to
  make first (a store statement), which the sync runner makes in place and the async runner in a worker
  thread, as it does a flow's blocking step. Raising (in the hook or in that call) stops the attempt: nothing
  is sent, the exception leaves the call as it is (it is no API error, so it is never retried).

Outside such a context nothing is asked: a client used on its own pays one context lookup per attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, Final

from ._flow import Blocking
from ._request import RequestSpec

__all__ = ["BeforeSend", "asked", "asked_async", "before_send", "before_send_hook", "may_write"]

#: Asked with the request about to be sent; None (send it) or a blocking call to make first. Raises to refuse.
BeforeSend = Callable[[RequestSpec], Blocking[Any] | None]

#: Methods that never write: their attempts are not handed to the hook.
_READS: Final = frozenset({"GET", "HEAD", "OPTIONS"})

_HOOK: ContextVar[BeforeSend | None] = ContextVar("billing_milestones_before_send", default=None)


def may_write(spec: RequestSpec) -> bool:
    """Whether ``spec``'s attempts are handed to the hook: not a read, and sent with the caller's credentials."""
    return spec.authenticated and spec.method.upper() not in _READS


def before_send_hook(spec: RequestSpec) -> BeforeSend | None:
    """The hook to ask before an attempt of ``spec`` (None: send it as it is). The context is looked at first:
    outside a ``before_send`` block that is all an attempt pays."""
    hook = _HOOK.get()
    return hook if hook is not None and may_write(spec) else None


@contextlib.contextmanager
def before_send(hook: BeforeSend) -> Iterator[None]:
    """Ask ``hook`` before each attempt of a write sent within this block (this thread or task)."""
    token = _HOOK.set(hook)
    try:
        yield
    finally:
        _HOOK.reset(token)


def asked(hook: BeforeSend, spec: RequestSpec) -> None:
    """The sync runner's turn: ask ``hook``, then make the blocking call it gives, in place."""
    step = hook(spec)
    if step is not None:
        step.call()


async def asked_async(hook: BeforeSend, spec: RequestSpec) -> None:
    """The async runner's turn: ask ``hook``, then make the blocking call it gives in a worker thread (the
    context goes with it), never on the event loop."""
    step = hook(spec)
    if step is not None:
        await asyncio.to_thread(step.call)
