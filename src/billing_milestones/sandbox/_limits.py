"""Server-side throttles: a request rate per sliding window and a cap on requests in flight."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["RateLimit", "Throttle"]


@dataclass(frozen=True)
class RateLimit:
    """``requests`` per ``per_seconds`` (sliding window) and at most ``max_concurrent`` in flight."""

    requests: int | None = None
    per_seconds: float = 1.0
    max_concurrent: int | None = None
    #: Whether a refused request carries a Retry-After header (Kantata does not document one).
    send_retry_after: bool = True


@dataclass(frozen=True)
class Throttle:
    """Why a request was refused, and the wait the server will suggest."""

    reason: str  # "rate" or "concurrency"
    retry_after: float


@dataclass
class Limiter:
    limit: RateLimit
    clock: Callable[[], float] = time.monotonic
    _times: deque[float] = field(default_factory=deque)
    _in_flight: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def enter(self, key: str = "") -> Throttle | None:
        """Admit a request (then call :meth:`leave`) or say why not."""
        with self._lock:
            now = self.clock()
            window = self.limit.per_seconds
            while self._times and now - self._times[0] >= window:
                self._times.popleft()
            if self.limit.requests is not None and len(self._times) >= self.limit.requests:
                wait = max(window - (now - self._times[0]), 0.001)
                return Throttle("rate", wait)
            in_flight = self._in_flight.get(key, 0)
            if self.limit.max_concurrent is not None and in_flight >= self.limit.max_concurrent:
                return Throttle("concurrency", 1.0)
            self._times.append(now)
            self._in_flight[key] = in_flight + 1
            return None

    def leave(self, key: str = "") -> None:
        with self._lock:
            self._in_flight[key] = max(self._in_flight.get(key, 1) - 1, 0)
