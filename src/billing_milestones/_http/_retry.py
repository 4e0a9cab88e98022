"""When to retry and how long to wait: pure functions, shared by the sync and async runners."""

from __future__ import annotations

import datetime as dt
import email.utils
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from ..errors import ValidationError

__all__ = ["RetryPolicy", "backoff_delay", "parse_retry_after"]


@dataclass(frozen=True)
class RetryPolicy:
    """How a client retries. Defaults follow the best SDKs: 2 retries, 0.5 s doubling to 8 s, jittered.

    ``max_retries=0`` turns retries off. ``total_budget`` bounds the whole call, waits included.
    A server hint (``Retry-After``, ``retry-after-ms``) is honoured up to ``max_retry_after``; above it the
    call gives up at once and the error carries the hint.
    """

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    jitter: float = 0.25
    max_retry_after: float = 60.0
    total_budget: float = 120.0
    retry_statuses: frozenset[int] = field(default_factory=lambda: frozenset({408, 429, 502, 503, 504}))
    #: Statuses after which a POST provably created nothing (rejected before processing).
    post_safe_statuses: frozenset[int] = field(default_factory=lambda: frozenset({429, 503}))

    def __post_init__(self) -> None:
        checks = {
            "max_retries": self.max_retries >= 0 and isinstance(self.max_retries, int),
            "initial_delay": self.initial_delay >= 0,
            "max_delay": self.max_delay >= self.initial_delay,
            "jitter": 0 <= self.jitter <= 1,
            "max_retry_after": self.max_retry_after >= 0,
            "total_budget": self.total_budget > 0,
        }
        for name, ok in checks.items():
            if not ok:
                value = getattr(self, name)
                raise ValidationError(f"RetryPolicy.{name}: {value!r} is out of range", field=name, value=value)


def backoff_delay(policy: RetryPolicy, retries_so_far: int, *, rng: random.Random | None = None) -> float:
    """``initial * 2**n`` capped at ``max_delay``, then reduced by up to ``jitter`` at random."""
    n = min(retries_so_far, 1000)  # pragma: no mutate (any cap from ~64 to 1023 gives max_delay; pow overflows past it)
    nominal = min(policy.initial_delay * math.pow(2.0, n), policy.max_delay)
    r = (rng or random).random()
    return nominal * (1.0 - policy.jitter * r)


def parse_retry_after(headers: Mapping[str, str] | httpx.Headers, *, now: dt.datetime | None = None) -> float | None:
    """Seconds the server asks us to wait, or None when it gave no usable hint.

    Order: ``retry-after-ms``, then ``Retry-After`` as seconds, then as an HTTP date. Zero, negative
    and unparsable values are no hint (the caller falls back to backoff).
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    candidates: list[float | None] = []
    if "retry-after-ms" in lowered:
        ms = _as_float(lowered["retry-after-ms"])
        candidates.append(ms / 1000.0 if ms is not None else None)
    if "retry-after" in lowered:
        raw = lowered["retry-after"].strip()
        seconds = _as_float(raw)
        if seconds is None:
            seconds = _seconds_until(raw, now)
        candidates.append(seconds)
    for value in candidates:
        if value is not None and math.isfinite(value) and value > 0:
            return value
    return None


def _as_float(text: str) -> float | None:
    """The number in ``text`` (maybe infinite: the caller keeps only finite, positive hints)."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _seconds_until(text: str, now: dt.datetime | None) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    current = now or dt.datetime.now(dt.UTC)
    return (when - current).total_seconds()
