"""Raw responses: ``resource.with_raw_response.method(...)`` returns the HTTP response behind a call.

Every native resource method has a raw twin, as in openai-python: the same arguments, the same checks and
the same requests, but the call returns a :class:`RawResponse` (an :class:`AsyncRawResponse` on the asyncio
clients) holding the response's headers, status code and request id, with ``.parse()`` giving what the plain
method returns. ``response_info`` on the parsed wire objects stays as it was.

How the response is found: while a raw twin runs, the runner reports each successful response it read
(:func:`record`, called by the runner once per response) to a recorder held in a context variable. A context
variable, not an attribute of the client, because one client is shared by threads and asyncio tasks: each
call sees only its own responses. Nothing is recorded, and nothing is kept, outside a raw call.

Which response a result is tied to:

* a call that sends one request: that request's response;
* a call that sends several (a zone discovery or a currency look-up first, bulk creates 100 per POST, a
  read before a write): the last one, which delivered the result; every one is in ``responses``;
* a listing (an iterator of items or of pages): the response of the **first page**. The raw twin fetches
  the first page at once (a plain listing is lazy and sends nothing until iterated), so its headers and
  status are there before any item is read; ``.parse()`` returns the iterator, starting with the first
  page's items, and later pages are fetched lazily as before (their responses are not recorded).

A call answered from the client's cache (the Autotask status picklist, a Kantata workspace's currency)
sends nothing, so it has no response: its raw twin raises :class:`~billing_milestones.errors.RequestNotSentError`
(pass ``refresh=True`` where the method has it).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Generic, ParamSpec, TypeVar

import httpx

from .. import errors
from ._redact import scrub
from ._request import APIResponse

__all__ = [
    "AsyncRawResponse",
    "RawResponse",
    "async_to_raw_listing_wrapper",
    "async_to_raw_response_wrapper",
    "record",
    "to_raw_listing_wrapper",
    "to_raw_response_wrapper",
]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

#: The responses read so far by the raw call running in this context; None outside raw calls.
_RECORDER: contextvars.ContextVar[list[APIResponse] | None] = contextvars.ContextVar(
    "billing_milestones_raw_recorder", default=None
)


def record(response: APIResponse) -> None:
    """Called by the runners for every successful response: kept only while a raw call runs."""
    seen = _RECORDER.get()
    if seen is not None:
        seen.append(response)


@contextlib.contextmanager
def _recording() -> Iterator[list[APIResponse]]:
    seen: list[APIResponse] = []
    token = _RECORDER.set(seen)
    try:
        yield seen
    finally:
        _RECORDER.reset(token)


def _checked(seen: list[APIResponse], name: str) -> tuple[APIResponse, ...]:
    if not seen:
        raise errors.RequestNotSentError(
            f"{name} sent no request (its answer came from the client's cache), so it has no raw response; "
            "call it with refresh=True where it takes one"
        )
    return tuple(seen)


class _RawBase(Generic[R]):
    """What both raw responses hold: every response the call read, the one its result came from, and the
    result itself (already parsed: the plain method's checks ran, and its errors were raised)."""

    __slots__ = ("_responses", "_result")

    def __init__(self, responses: tuple[APIResponse, ...], result: R) -> None:
        self._responses = responses
        self._result = result

    @property
    def responses(self) -> tuple[APIResponse, ...]:
        """Every successful response the call read, in order; the last is the one described here."""
        return self._responses

    @property
    def api_response(self) -> APIResponse:
        """The response the result came from (a listing's first page), with its ``retries_taken``."""
        return self._responses[-1]

    @property
    def http_response(self) -> httpx.Response:
        return self.api_response.http

    @property
    def http_request(self) -> httpx.Request:
        """The request as sent (its credential headers are the real ones: do not log it whole)."""
        return self.api_response.http.request

    @property
    def headers(self) -> httpx.Headers:
        return self.api_response.http.headers

    @property
    def status_code(self) -> int:
        return self.api_response.http.status_code

    @property
    def request_id(self) -> str | None:
        """The platform's request id header (the one errors carry), when it sent one."""
        return self.api_response.request_id

    @property
    def retries_taken(self) -> int:
        return self.api_response.retries_taken

    @property
    def platform(self) -> str:
        return self.api_response.platform

    @property
    def method(self) -> str:
        return self.http_request.method

    @property
    def url(self) -> httpx.URL:
        return self.http_request.url

    @property
    def content(self) -> bytes:
        return self.api_response.http.content

    @property
    def text(self) -> str:
        return self.api_response.http.text

    def json(self) -> Any:
        """The body as JSON, every decimal number an exact Decimal (never a float)."""
        return self.api_response.json()

    def __repr__(self) -> str:
        # The path only, scrubbed: a query string or path may carry an id we must not print (never a secret).
        return (
            f"<{type(self).__name__} [{self.status_code}] {self.method} {scrub(self.url.path)} "
            f"request_id={self.request_id!r}>"
        )


class RawResponse(_RawBase[R]):
    """The raw response of a blocking call; ``parse()`` returns what the plain method returns."""

    __slots__ = ()

    def parse(self) -> R:
        """The plain method's result. For a listing, the iterator (each call returns the same one)."""
        return self._result


class AsyncRawResponse(_RawBase[R]):
    """The raw response of an asyncio call; ``await parse()`` returns what the plain method returns."""

    __slots__ = ()

    async def parse(self) -> R:
        """The plain method's result. For a listing, the async iterator (each call returns the same one)."""
        return self._result


def _name(func: Callable[..., Any]) -> str:
    return getattr(func, "__qualname__", getattr(func, "__name__", "the call"))


def to_raw_response_wrapper(func: Callable[P, R]) -> Callable[P, RawResponse[R]]:
    """The raw twin of a blocking method: the same signature, returning a :class:`RawResponse`."""

    @functools.wraps(func)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> RawResponse[R]:
        with _recording() as seen:
            result = func(*args, **kwargs)
        return RawResponse(_checked(seen, _name(func)), result)

    return wrapped


def to_raw_listing_wrapper(func: Callable[P, Iterator[T]]) -> Callable[P, RawResponse[Iterator[T]]]:
    """The raw twin of a blocking listing: fetches the first page now (see the module's docstring)."""

    @functools.wraps(func)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> RawResponse[Iterator[T]]:
        with _recording() as seen:
            items = func(*args, **kwargs)
            rest = _primed(items)
        return RawResponse(_checked(seen, _name(func)), rest)

    return wrapped


def _primed(items: Iterator[T]) -> Iterator[T]:
    """``items`` with its first element already read (and so its first page fetched)."""
    try:
        first = next(items)
    except StopIteration:
        return iter(())
    return _chain_first(first, items)


def _chain_first(first: T, items: Iterator[T]) -> Iterator[T]:
    yield first
    yield from items


def async_to_raw_response_wrapper(func: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[AsyncRawResponse[R]]]:
    """The raw twin of an awaitable method: the same signature, returning an :class:`AsyncRawResponse`."""

    @functools.wraps(func)
    async def wrapped(*args: P.args, **kwargs: P.kwargs) -> AsyncRawResponse[R]:
        with _recording() as seen:
            result = await func(*args, **kwargs)
        return AsyncRawResponse(_checked(seen, _name(func)), result)

    return wrapped


def async_to_raw_listing_wrapper(
    func: Callable[P, AsyncIterator[T]],
) -> Callable[P, Awaitable[AsyncRawResponse[AsyncIterator[T]]]]:
    """The raw twin of an async listing: awaiting it fetches the first page (see the module's docstring)."""

    @functools.wraps(func)
    async def wrapped(*args: P.args, **kwargs: P.kwargs) -> AsyncRawResponse[AsyncIterator[T]]:
        with _recording() as seen:
            items = func(*args, **kwargs)
            rest = await _aprimed(items)
        return AsyncRawResponse(_checked(seen, _name(func)), rest)

    return wrapped


async def _aprimed(items: AsyncIterator[T]) -> AsyncIterator[T]:
    try:
        first = await anext(items)
    except StopAsyncIteration:
        return _aempty()
    return _achain_first(first, items)


async def _aempty() -> AsyncIterator[T]:
    return
    yield


async def _achain_first(first: T, items: AsyncIterator[T]) -> AsyncIterator[T]:
    yield first
    async for item in items:
        yield item
