"""Sentinels and defaults shared by every client."""

from __future__ import annotations

from typing import Final, Literal, TypeAlias

import httpx

__all__ = ["DEFAULT_TIMEOUT", "NOT_GIVEN", "NotGiven", "TimeoutTypes", "resolve_timeout", "timeout_bound"]


class NotGiven:
    """Marks "argument not passed", so ``timeout=None`` (no timeout at all) is never an accident."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()

#: 30 s to read, write or wait for a pooled connection; 5 s to connect.
DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0, connect=5.0)

TimeoutTypes: TypeAlias = "float | httpx.Timeout | None | NotGiven"


def resolve_timeout(timeout: float | httpx.Timeout | None | NotGiven, default: httpx.Timeout) -> httpx.Timeout:
    """NOT_GIVEN -> default; None -> explicitly unbounded; a number -> that for every phase."""
    if isinstance(timeout, NotGiven):
        return default
    if isinstance(timeout, httpx.Timeout):
        return timeout
    if timeout is None:
        return httpx.Timeout(None)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout < float("inf"):
        from ..errors import ValidationError

        raise ValidationError(
            f"timeout must be a positive number of seconds, an httpx.Timeout or None, got {timeout!r}",
            field="timeout",
            value=timeout,
        )
    return httpx.Timeout(float(timeout))


def timeout_bound(timeout: httpx.Timeout) -> float | None:
    """The longest a request sent with ``timeout`` keeps its client waiting: every phase in turn (a free
    pooled connection, connecting, writing, reading); None when a phase is unbounded. What a dead client's
    request may still be doing after it died is bounded by this (slot leases, the settle window)."""
    parts = (timeout.pool, timeout.connect, timeout.write, timeout.read)
    if any(part is None for part in parts):
        return None
    return float(sum(part for part in parts if part is not None))
