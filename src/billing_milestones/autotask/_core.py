"""Autotask's ClientCore: how its errors are recognised and classified, and the client-side hourly budget.

Autotask says "error" in its body, not reliably in its status: business-rule failures, throttles and permission
refusals come as 500s, and an ``{"errors": [...]}`` body can come with a 200. A listing that took such a 200 for
an empty page would end early and the sync would delete what it did not see, so a 2xx whose body is an error
body is not a success here: it becomes the same typed error (and gets the same retry verdict) as any other.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol, runtime_checkable

import httpx

from .. import errors
from .._http import (
    ClientCore,
    ErrorDetail,
    RequestSpec,
    default_error_detail,
    loads,
    parse_retry_after,
)

__all__ = [
    "PLATFORM",
    "AutotaskCore",
    "HourlyBudget",
    "RequestBudget",
    "error_body_messages",
    "error_detail",
    "error_hook",
    "is_thread_threshold",
    "retry_hook",
]

PLATFORM: Final = "autotask"
_THREAD_THRESHOLD: Final = "thread threshold"
_PERMISSION_TEXT: Final = "does not have the adequate permissions"
#: Every REST operation lives under it; a path without it is a base URL missing the version (a 404 for all).
_VERSION_SEGMENT: Final = "/v1.0/"


def _get(body: dict[str, Any], name: str) -> Any:
    """``body[name]`` in any casing (``errors``, ``Errors``): Autotask field names are case-insensitive."""
    return next((v for k, v in body.items() if isinstance(k, str) and k.lower() == name), None)


def _messages(body: Any) -> list[str]:
    out: list[str] = []
    if isinstance(body, dict):
        items = _get(body, "errors")
        if isinstance(items, list):
            for item in items:
                if isinstance(item, str):
                    out.append(item)
                elif isinstance(item, dict) and isinstance(_get(item, "message"), str):
                    out.append(_get(item, "message"))
        out.extend(v for k, v in body.items() if isinstance(k, str) and k.lower() == "message" and isinstance(v, str))
    return out


def error_body_messages(body: Any) -> list[str] | None:
    """The messages of an Autotask error body (a JSON object with a non-empty ``errors`` list), else None.

    An ``errors`` list whose entries carry no text still counts: the server said something went wrong.
    """
    if not isinstance(body, dict):
        return None
    items = _get(body, "errors")
    if not isinstance(items, list) or not items:
        return None
    return _messages({"errors": items}) or [f"{len(items)} error(s) without a message"]


def error_detail(body: Any) -> ErrorDetail:
    """Autotask's ``{"errors": [...]}`` (strings, or ``{message, field}`` items) or .NET's ``{"Message"}``."""
    messages = _messages(body)
    if not messages:
        return default_error_detail(body)
    field = None
    items = _get(body, "errors") if isinstance(body, dict) else None
    if isinstance(items, list):
        field = next(
            (_get(i, "field") for i in items if isinstance(i, dict) and isinstance(_get(i, "field"), str)), None
        )
    return ErrorDetail(messages, field)


def is_thread_threshold(body: Any) -> bool:
    return any(_THREAD_THRESHOLD in m.lower() for m in _messages(body))


def retry_hook(response: httpx.Response, body: Any) -> bool | None:
    """Thread-threshold refusals (any status) were rejected before processing: retry even a POST.
    A 500 with ``errors[]`` is a validation or business-rule failure: never retried."""
    if is_thread_threshold(body):
        return True
    if response.status_code == 500 and _messages(body):
        return False
    return None


def error_hook(response: httpx.Response, body: Any, kwargs: dict[str, Any]) -> errors.APIStatusError | None:
    """Classify by message, not status: Autotask sends throttles and permission failures as 500s (or 200s).
    A 404 on a path without ``/V1.0/`` says so: that is a misconfigured base URL, not a missing record."""
    if is_thread_threshold(body):
        return errors.RateLimitError(
            "Autotask thread threshold exceeded", retry_after=parse_retry_after(response.headers), **kwargs
        )
    if response.status_code in (200, 500) and any(_PERMISSION_TEXT in m.lower() for m in _messages(body)):
        return errors.PermissionDeniedError(
            f"Autotask refused: insufficient permissions (sent as HTTP {response.status_code})", **kwargs
        )
    if response.status_code == 404 and _VERSION_SEGMENT not in response.request.url.path.lower() + "/":
        return errors.NotFoundError(
            f"HTTP 404 Not Found: the path {response.request.url.path} lacks the API version segment /V1.0/; "
            "Autotask's REST operations live under .../ATServicesRest/V1.0/ (check base_url)",
            **kwargs,
        )
    if 200 <= response.status_code < 300:
        return errors.APIStatusError(
            f"Autotask answered HTTP {response.status_code} with an error body; nothing in it can be trusted",
            **kwargs,
        )
    return None


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return loads(response.content)
    except ValueError:
        return None


@runtime_checkable
class RequestBudget(Protocol):
    """What ``hourly_budget=`` takes besides a number: anything that admits or refuses one request.

    The client calls :meth:`acquire` once per attempt to send (retries and pages count, as on the server),
    before any I/O. :class:`HourlyBudget` keeps the count in this process; a budget shared by several worker
    processes (a row in a database, say) implements the same two members.
    """

    #: The size of the budget, named in the refusal's message.
    limit: int

    def acquire(self) -> float | None:
        """Take a slot: None when the request may go, else the seconds until one frees (it is not sent)."""
        ...


class HourlyBudget:
    """A client-side share of Autotask's rolling-hour request threshold (10,000 per tenant by default).

    Refuses before sending, so one greedy job cannot lock every integration of the tenant out.
    """

    def __init__(self, limit: int, *, window: float = 3600.0, clock: Callable[[], float] = time.monotonic) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise errors.ValidationError(
                f"hourly_budget: expected a positive int, got {limit!r}", field="hourly_budget", value=limit
            )
        self.limit = limit
        self.window = window
        self._clock = clock
        self._times: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def acquire(self) -> float | None:
        """Take a slot; None when admitted, else the seconds until the oldest request leaves the window."""
        with self._lock:
            now = self._clock()
            while self._times and now - self._times[0] >= self.window:
                self._times.popleft()
            if len(self._times) >= self.limit:
                return max(self.window - (now - self._times[0]), 0.001)
            self._times.append(now)
            return None

    @property
    def used(self) -> int:
        with self._lock:
            now = self._clock()
            return sum(1 for t in self._times if now - t < self.window)


@dataclass(frozen=True)
class AutotaskCore(ClientCore):
    """ClientCore plus the hourly budget, charged per attempt (retries and pages count, as on the server), and
    Autotask's own error rules (error bodies on any status, throttles and permissions classified by message)."""

    error_detail: Callable[[Any], ErrorDetail] = error_detail
    retry_hook: Callable[[httpx.Response, Any], bool | None] | None = retry_hook
    error_hook: Callable[[httpx.Response, Any, dict[str, Any]], errors.APIStatusError | None] | None = error_hook
    budget: RequestBudget | None = None

    def is_success(self, response: httpx.Response) -> bool:
        """A 2xx is a success unless its body is an error body (checked only when the word is in it: cheap)."""
        if not super().is_success(response):
            return False
        return b"errors" not in response.content.lower() or error_body_messages(_json_or_none(response)) is None

    def build_request(self, client: httpx.Client | httpx.AsyncClient, spec: RequestSpec, attempt: int) -> httpx.Request:
        if spec.authenticated and self.budget is not None:
            wait = self.budget.acquire()
            if wait is not None:
                raise errors.BudgetExhaustedError(
                    f"client-side hourly budget of {self.budget.limit} requests exhausted; "
                    f"a slot frees in {wait:.0f}s (not sent)",
                    retry_after=wait,
                    platform=self.platform,
                    method=spec.method,
                    path=spec.path,
                )
        return super().build_request(client, spec, attempt)
