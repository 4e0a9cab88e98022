"""Autotask's ClientCore: its error rules (``_errors``) wired in, and the client-side hourly budget.

A 2xx whose body is an Autotask error body is not a success (see ``_errors``); every authenticated attempt
is charged to the hourly budget before it is sent, so one greedy job cannot lock every integration of the
tenant out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol, runtime_checkable

import httpx

from .. import errors
from .._http import APIResponse, ClientCore, ErrorDetail, RequestSpec, SlidingWindowBudget, loads
from ._errors import (
    PLATFORM,
    error_body_messages,
    error_detail,
    error_hook,
    is_thread_threshold,
    retry_hook,
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
    "parsed_body",
    "retry_hook",
]


#: Where :meth:`AutotaskCore.is_success` keeps a success's parsed body on its ``httpx.Response``.
_PARSED: Final = "_billing_milestones_parsed_body"
_UNPARSED: Final[Any] = object()


def parsed_body(response: APIResponse) -> Any:
    """``response.json()``: the body :meth:`AutotaskCore.is_success` parsed, taken (the next call parses
    afresh, so no two readers share one parse), or parsed here when it was not (a response it did not see)."""
    body = vars(response.http).pop(_PARSED, _UNPARSED)
    return response.json() if body is _UNPARSED else body


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


class HourlyBudget(SlidingWindowBudget):
    """A client-side share of Autotask's rolling-hour request threshold (10,000 per tenant by default): the
    in-process sliding window every client can take as ``request_budget=``, over an hour.

    As ``hourly_budget=`` it refuses before sending, so one greedy job cannot lock every integration of the
    tenant out.
    """

    option = "hourly_budget"

    def __init__(self, limit: int, *, window: float = 3600.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(limit, window=window, clock=clock)


@dataclass(frozen=True)
class AutotaskCore(ClientCore):
    """ClientCore plus the hourly budget, charged per attempt (retries and pages count, as on the server), and
    Autotask's own error rules (error bodies on any status, throttles and permissions classified by message)."""

    error_detail: Callable[[Any], ErrorDetail] = error_detail
    retry_hook: Callable[[httpx.Response, Any], bool | None] | None = retry_hook
    error_hook: Callable[[httpx.Response, Any, dict[str, Any]], errors.APIStatusError | None] | None = error_hook
    budget: RequestBudget | None = None

    def is_success(self, response: httpx.Response) -> bool:
        """A 2xx is a success unless its body is an error body. The body is parsed here, once: the parse is
        kept on the response for the operation's reading of it (:func:`parsed_body`), so a page is not parsed
        twice, nor scanned for the word first (lower-casing a 500-record page cost a sixth of its parse)."""
        if not super().is_success(response):
            return False
        try:
            body = loads(response.content)
        except ValueError:  # not JSON: no error body (the operation's reading refuses it, by its own error)
            return True
        vars(response)[_PARSED] = body
        return error_body_messages(body) is None

    def build_request(self, client: httpx.Client | httpx.AsyncClient, spec: RequestSpec, attempt: int) -> httpx.Request:
        if spec.authenticated and self.budget is not None:
            wait = self.budget.acquire()
            if wait is not None:
                frees = f"{wait:.0f}s" if wait >= 10 else f"{max(wait, 0.1):.1f}s"  # never "0s" for a short wait
                raise errors.BudgetExhaustedError(
                    f"client-side hourly budget of {self.budget.limit} requests exhausted; "
                    f"a slot frees in {frees} (not sent)",
                    retry_after=wait,
                    platform=self.platform,
                    method=spec.method,
                    path=spec.path,
                )
        return super().build_request(client, spec, attempt)
