"""Sans-IO request and response values: what to send, and what came back."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Generic, Protocol, TypeVar, runtime_checkable

import httpx

from ._json import loads
from ._redact import redact_headers, scrub, scrub_data
from ._types import NOT_GIVEN, NotGiven

__all__ = [
    "APIResponse",
    "Operation",
    "Page",
    "PagedOperation",
    "RequestSpec",
    "ResponseAware",
    "ResponseInfo",
    "Retryable",
]

T = TypeVar("T")
U = TypeVar("U")

QueryValue = str | int | bool | None | Sequence[str | int]


class Retryable:
    """How a request may be retried. ``AUTO`` follows the method: GET/PUT/DELETE/PATCH-by-id yes, POST only
    when nothing can have been created; ``ALWAYS`` is for a POST that provably cannot duplicate (queries)."""

    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


#: What :meth:`RequestSpec.identity` writes with: ``json.dumps``'s encoder for ``sort_keys=True, default=str``.
_IDENTITY: Final = json.JSONEncoder(sort_keys=True, default=str)


class _NoHeaders(Mapping[str, str]):
    """An empty, read-only mapping, equal to ``{}``; copies and pickles of a spec get the one instance back."""

    __slots__ = ()

    def __getitem__(self, key: str) -> str:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __reduce__(self) -> str:
        return "NO_HEADERS"

    def __repr__(self) -> str:
        return "{}"


#: The headers of a spec that adds none: one shared, read-only empty mapping instead of a new dict per request.
NO_HEADERS: Final[Mapping[str, str]] = _NoHeaders()


@dataclass(frozen=True, init=False)
class RequestSpec:
    """Everything needed to build one HTTP request, independent of sync or async I/O.

    Every call makes one (every page of a listing too), so it is made by one ``__dict__`` update instead of
    the ten frozen-field assignments a generated ``__init__`` makes (about 0.7 us a request); the fields,
    their defaults, equality, ``replace`` and immutability are a frozen dataclass's."""

    method: str
    path: str
    params: Mapping[str, QueryValue] | None = None
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=lambda: NO_HEADERS)  # read-only, so safely shared
    retryable: str = Retryable.AUTO
    timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN
    max_retries: int | NotGiven = NOT_GIVEN
    #: Requests sharing a key share a concurrency limit (Autotask: one per object endpoint).
    limit_key: str | None = None
    #: False for calls that must not carry credentials (Autotask zone discovery).
    authenticated: bool = True

    def __init__(
        self,
        method: str,
        path: str,
        params: Mapping[str, QueryValue] | None = None,
        json: Any = None,
        headers: Mapping[str, str] = NO_HEADERS,
        retryable: str = Retryable.AUTO,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        limit_key: str | None = None,
        authenticated: bool = True,
    ) -> None:
        self.__dict__.update(
            method=method,
            path=path,
            params=params,
            json=json,
            headers=headers,
            retryable=retryable,
            timeout=timeout,
            max_retries=max_retries,
            limit_key=limit_key,
            authenticated=authenticated,
        )

    def __repr__(self) -> str:
        # A traceback that captures locals (rich, sentry, pytest -l) prints this: never a credential.
        return (
            f"RequestSpec(method={self.method!r}, path={scrub(self.path)!r}, params={scrub_data(self.params)!r}, "
            f"json={scrub_data(self.json)!r}, headers={redact_headers(self.headers)!r}, "
            f"authenticated={self.authenticated!r})"
        )

    def identity(self) -> str:
        """A stable text form, used to detect a pagination loop (``json.dumps(..., sort_keys=True,
        default=str)``, by one encoder made once rather than one per call)."""
        body = _IDENTITY.encode(self.json) if self.json is not None else ""
        params = _IDENTITY.encode(dict(self.params or {}))
        return f"{self.method} {self.path} {params} {body}"


@dataclass(frozen=True, init=False)
class ResponseInfo:
    """How the response behind a result arrived: kept on every wire object a client returns (one per response;
    made by one ``__dict__`` update, as :class:`RequestSpec` is)."""

    platform: str
    status_code: int
    request_id: str | None
    retries_taken: int

    def __init__(self, platform: str, status_code: int, request_id: str | None, retries_taken: int) -> None:
        self.__dict__.update(
            platform=platform, status_code=status_code, request_id=request_id, retries_taken=retries_taken
        )


@runtime_checkable
class ResponseAware(Protocol):
    """A result that can remember the response it came from (every platform wire model)."""

    def _bind_response(self, info: ResponseInfo) -> None: ...


@dataclass(frozen=True, init=False)
class APIResponse:
    """A successful response and how many retries it took (one per response, made as :class:`RequestSpec` is)."""

    http: httpx.Response
    retries_taken: int
    platform: str
    request_id: str | None = None

    def __init__(self, http: httpx.Response, retries_taken: int, platform: str, request_id: str | None = None) -> None:
        self.__dict__.update(http=http, retries_taken=retries_taken, platform=platform, request_id=request_id)

    @property
    def status_code(self) -> int:
        return self.http.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.http.headers

    @property
    def info(self) -> ResponseInfo:
        return ResponseInfo(self.platform, self.http.status_code, self.request_id, self.retries_taken)

    def json(self) -> Any:
        """The body, with every JSON decimal number as an exact Decimal (never a float)."""
        if not self.http.content:
            return None
        return loads(self.http.content)


@dataclass(frozen=True, init=False)
class Operation(Generic[T]):
    """A request plus how to turn its response into a result: the unit both runners execute (one per call,
    made as :class:`RequestSpec` is)."""

    spec: RequestSpec
    parse: Callable[[APIResponse], T]

    def __init__(self, spec: RequestSpec, parse: Callable[[APIResponse], T]) -> None:
        self.__dict__.update(spec=spec, parse=parse)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results and the request for the next page, if any."""

    items: list[T]
    next: RequestSpec | None
    response: APIResponse
    #: The server's own count of items in the whole listing, where it gives one (checked, never trusted).
    total: int | None = None
    #: The server's own count of pages, where it gives one (Kantata ``page_count``).
    total_pages: int | None = None
    #: Each item's identity on this page (its id), so a repeated item anywhere in the walk is caught.
    item_ids: tuple[str, ...] | None = None

    def map(self, convert: Callable[[T], U]) -> Page[U]:
        """The same page with each item converted (the ids, counts and next link kept)."""
        return Page(
            [convert(i) for i in self.items], self.next, self.response, self.total, self.total_pages, self.item_ids
        )


@dataclass(frozen=True)
class PagedOperation(Generic[T]):
    """The first page's request and a parser that also yields the next page's request."""

    first: RequestSpec
    parse: Callable[[RequestSpec, APIResponse], Page[T]]
    #: A ceiling of this operation's own; the client's ``max_pages`` applies too (the smaller wins).
    max_pages: int | None = None

    def map(self, convert: Callable[[T], U]) -> PagedOperation[U]:
        """The same listing with each item converted as its page is read (e.g. wire record -> Milestone)."""
        parse = self.parse
        return PagedOperation(self.first, lambda spec, response: parse(spec, response).map(convert), self.max_pages)
