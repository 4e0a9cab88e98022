"""What every platform emulator shares: request parsing, routing, and the fault/throttle pipeline.

An emulator is a request handler over in-memory state. The pipeline in :meth:`Emulator.steps` is a
generator that yields the seconds to sleep, so the in-process transports (sync and async) and the ASGI
app drive exactly the same logic and differ only in how they sleep.
"""

from __future__ import annotations

import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import unquote

import httpx

from .._extras import require
from .._http._json import loads
from ._answer import answer
from ._encode import encode_bytes
from ._faults import Fault, FaultKind, FaultPlan
from ._limits import Limiter, RateLimit, Throttle
from ._served_url import simple_parts
from ._transport import SandboxTransport

__all__ = ["Emulator", "RequestLogEntry", "Router", "SandboxRequest", "json_response"]

Handler = Callable[["SandboxRequest"], httpx.Response]


@dataclass(frozen=True)
class SandboxRequest:
    """A request as an emulator sees it: path relative to the emulator's base path, parsed query and body."""

    method: str
    url: httpx.URL
    path: str
    query: Mapping[str, str]
    headers: httpx.Headers
    body: bytes
    #: scheme://host[:port][mount prefix]: where this emulator is reachable, for URLs it hands out.
    origin: str
    params: Mapping[str, str] = field(default_factory=dict)
    #: True when it came over a real socket (the ASGI app), where credentials are checked as a real service
    #: would; in-process transports keep accepting any documented demo credential.
    served: bool = False

    def json(self) -> Any:
        """The body with decimals as Decimal; raises ValueError on invalid JSON."""
        return loads(self.body) if self.body else None

    def with_params(self, params: Mapping[str, str]) -> SandboxRequest:
        """This request with its route's path params (as ``dataclasses.replace`` would make it, without
        reading a served request's URL)."""
        routed = object.__new__(type(self))
        routed.__dict__.update(self.__dict__)
        object.__setattr__(routed, "params", params)
        return routed

    @classmethod
    def _served(cls, url_text: str, **fields: Any) -> SandboxRequest:
        """A request served on a socket whose ``url`` is built from ``url_text`` when first read: the emulators
        route by its parts, already read (``_served_url``), and only a few answers quote the URL itself."""
        request = object.__new__(cls)
        for name, value in {"params": {}, **fields, "_url_text": url_text}.items():
            object.__setattr__(request, name, value)
        return request

    if not TYPE_CHECKING:  # for mypy ``url`` is the field it is; here a served request's may come later

        def __getattr__(self, name: str) -> Any:
            text = self.__dict__.get("_url_text") if name == "url" else None
            if text is None:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            url = httpx.URL(text)
            object.__setattr__(self, "url", url)
            return url


def query_dict(query: str) -> dict[str, str]:
    """``dict(parse_qsl(query, keep_blank_values=True))``: each ``&``-separated field (empty ones skipped) cut
    at its first ``=`` (none: a blank value), ``+`` read as a space and percent-escapes decoded (UTF-8, bad
    bytes replaced), the last of a name kept. The same steps, each taken only where it changes something
    (parse_qsl calls its decoding twice a field: about a quarter of a small served request's parsing).
    tests/sandbox/test_served_headers.py compares the two."""
    fields: dict[str, str] = {}
    if not query:
        return fields
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "+" in name:
            name = name.replace("+", " ")
        if "%" in name:
            name = unquote(name)
        if "+" in value:
            value = value.replace("+", " ")
        if "%" in value:
            value = unquote(value)
        fields[name] = value
    return fields


def json_response(status: int, data: Any = None, headers: Mapping[str, str] | None = None) -> httpx.Response:
    """The answer ``httpx.Response(status, content=<data's JSON>, headers=...)``, made when first read as one
    when its headers are plain (an ``Answer``: a served request's is sent without it)."""
    content = b"" if data is None else encode_bytes(data)
    hdrs = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    return answer(status, content, hdrs)


class Router:
    """Path templates like ``/billing_milestones/{id}`` matched against a request's relative path."""

    def __init__(self, *, case_insensitive: bool = False) -> None:
        self._flags = re.IGNORECASE if case_insensitive else 0
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template.rstrip("/") or "/")
        self._routes.append((method.upper(), re.compile(f"^{pattern}/?$", self._flags), handler))

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]] | str | None:
        """The handler and path params; the string "405" when only the method is wrong; None if no route."""
        allowed = False
        for route_method, pattern, handler in self._routes:
            m = pattern.match(path)
            if m is None:
                continue
            if route_method == method.upper():
                return handler, m.groupdict()
            allowed = True
        return "405" if allowed else None

    def dispatch(
        self,
        request: SandboxRequest,
        *,
        not_found: Callable[[SandboxRequest], httpx.Response],
        not_allowed: Callable[[SandboxRequest], httpx.Response],
    ) -> httpx.Response:
        """Call the matching handler with ``request.params`` filled in, or the platform's 404/405."""
        found = self.match(request.method, request.path)
        if found is None:
            return not_found(request)
        if isinstance(found, str):
            return not_allowed(request)
        handler, params = found
        return handler(request.with_params(params))


@dataclass(frozen=True)
class RequestLogEntry:
    method: str
    path: str
    status: int | None
    fault: FaultKind | None = None


class Emulator(ABC):
    """Base of the platform emulators. Subclasses route requests in :meth:`handle` under ``self.lock``."""

    platform: ClassVar[str]
    #: The API's base path on its real host, e.g. ``/api/v1``; stripped before routing.
    base_path: ClassVar[str] = ""
    base_path_case_insensitive: ClassVar[bool] = False

    def __init__(self, *, faults: FaultPlan | None = None, rate_limit: RateLimit | None = None) -> None:
        self.faults = faults or FaultPlan()
        self.rate_limit = rate_limit
        self._limiter = Limiter(rate_limit) if rate_limit else None
        self.lock = threading.RLock()
        self.request_log: list[RequestLogEntry] = []

    # -- what subclasses provide --------------------------------------------------------------------
    @abstractmethod
    def handle(self, request: SandboxRequest) -> httpx.Response:
        """Answer one request from in-memory state (called with ``self.lock`` held)."""

    def throttled_response(self, throttle: Throttle) -> httpx.Response:
        """The platform's answer when a request exceeds its rate or concurrency limit."""
        headers = {"Retry-After": f"{throttle.retry_after:.3f}"} if self._send_retry_after() else {}
        return json_response(429, {"message": "Too many requests"}, headers)

    def fault_response(self, fault: Fault) -> httpx.Response:
        """The platform's answer for an injected 429 or 5xx."""
        if fault.kind is FaultKind.RATE_LIMIT:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            return json_response(429, {"message": "Too many requests"}, headers)
        return json_response(fault.status or 500, {"message": "injected server error"})

    def limit_key(self, request: SandboxRequest) -> str:
        """Requests with the same key share the concurrency limit (Autotask: per object endpoint)."""
        return ""

    def _send_retry_after(self) -> bool:
        return self.rate_limit.send_retry_after if self.rate_limit else True

    # -- plumbing -----------------------------------------------------------------------------------
    def parse(self, request: httpx.Request, *, mount: str = "", served: bool = False) -> SandboxRequest:
        return self.parse_parts(
            request.method, request.url, request.headers, request.content, mount=mount, served=served
        )

    def parse_parts(
        self,
        method: str,
        url: httpx.URL,
        headers: httpx.Headers,
        body: bytes,
        *,
        mount: str = "",
        served: bool = False,
    ) -> SandboxRequest:
        """The request relative to this emulator: its base path (and a server's ``mount`` prefix) stripped."""
        fields = self._relative(url.scheme, url.netloc.decode(), url.path, url.query.decode(), mount)
        return SandboxRequest(method=method.upper(), url=url, headers=headers, body=body, served=served, **fields)

    def parse_served(
        self, method: str, url_text: str, headers: httpx.Headers, body: bytes, *, mount: str
    ) -> SandboxRequest:
        """``parse_parts`` of a request served on a socket, its URL given as text: the same request, its
        ``url`` built only when read when the text's parts can be read from it (``_served_url``)."""
        parts = simple_parts(url_text)
        if parts is None:
            return self.parse_parts(method, httpx.URL(url_text), headers, body, mount=mount, served=True)
        fields = self._relative(*parts, mount)
        return SandboxRequest._served(
            url_text, method=method.upper(), headers=headers, body=body, served=True, **fields
        )

    def _relative(self, scheme: str, netloc: str, full: str, query: str, mount: str) -> dict[str, Any]:
        """path, query and origin of a request to ``full`` (a URL's path) relative to this emulator."""
        path = full[len(mount) :] if mount and full.startswith(mount) else full
        base = self.base_path
        if base:
            matches = (
                path.lower().startswith(base.lower()) if self.base_path_case_insensitive else path.startswith(base)
            )
            if matches:
                path = path[len(base) :]
        return {
            "path": path or "/",
            "query": query_dict(query),
            "origin": f"{scheme}://{netloc}{mount}",
        }

    def steps(self, request: SandboxRequest) -> Generator[float, None, httpx.Response]:
        """The whole server-side pipeline; yields seconds to sleep, returns the response or raises httpx errors."""
        delay, fault = self.faults.draw(request.method, request.path)
        if fault is not None and fault.kind is FaultKind.REFUSE:
            self._log(request, None, fault.kind)
            raise httpx.ConnectError("sandbox: connection refused (injected)")
        key = self.limit_key(request)
        throttle = self._limiter.enter(key) if self._limiter else None
        if throttle is not None:
            response = self.throttled_response(throttle)
            self._log(request, response.status_code, None)
            return response
        try:
            if delay:
                yield delay
            if fault is not None and fault.kind in (FaultKind.RATE_LIMIT, FaultKind.STATUS):
                response = self.fault_response(fault)
                self._log(request, response.status_code, fault.kind)
                return response
            with self.lock:
                response = self.handle(request)
            if fault is not None and fault.kind is FaultKind.DROP:
                self._log(request, response.status_code, fault.kind)
                raise httpx.RemoteProtocolError("sandbox: server disconnected after handling (injected)")
            if fault is not None and fault.kind is FaultKind.READ_TIMEOUT:
                self._log(request, response.status_code, fault.kind)
                if fault.delay:
                    yield fault.delay
                raise httpx.ReadTimeout("sandbox: response never arrived (injected)")
            self._log(request, response.status_code, None)
            return response
        finally:
            if self._limiter is not None:
                self._limiter.leave(key)

    def _log(self, request: SandboxRequest, status: int | None, fault: FaultKind | None) -> None:
        self.request_log.append(RequestLogEntry(request.method, request.path, status, fault))

    def count_requests(self, method: str | None = None, path_regex: str | None = None) -> int:
        return sum(
            1
            for e in self.request_log
            if (method is None or e.method == method.upper()) and (path_regex is None or re.search(path_regex, e.path))
        )

    # -- ways to reach it ---------------------------------------------------------------------------
    def transport(self) -> SandboxTransport:
        return SandboxTransport(self)

    def http_client(self, **kwargs: Any) -> httpx.Client:
        """An ``httpx.Client`` whose requests this emulator answers in-process."""
        return httpx.Client(transport=self.transport(), **kwargs)

    def async_http_client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport(), **kwargs)

    def asgi_app(self) -> Any:
        """A Starlette app serving this emulator, for a loopback server (``milestones sandbox serve``)."""
        require("sandbox", "starlette", "uvicorn")
        from ._asgi import emulator_app

        return emulator_app(self)
