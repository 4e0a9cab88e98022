"""The shared, I/O-free half of every client: build requests, classify outcomes, build errors."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import httpx

from .. import errors
from ._build import make_request
from ._json import dumps, loads
from ._paging import DEFAULT_MAX_PAGES
from ._redact import logger, scrub, scrub_data
from ._request import APIResponse, RequestSpec, Retryable
from ._retry import RetryPolicy, parse_retry_after
from ._types import DEFAULT_TIMEOUT, NOT_GIVEN, NotGiven, resolve_timeout

#: What a send raises once the request may have left: the transport's failures, and an answer whose body
#: cannot be undone from its ``Content-Encoding`` (a gzip stream cut short), which httpx raises as a
#: ``DecodingError``, not a ``TransportError``. Both end as :class:`~billing_milestones.APIConnectionError`:
#: a read is retried, a write is not (it reached the server, which answered it).
SEND_FAILURES: Final = (httpx.TransportError, httpx.DecodingError)
SendFailure = httpx.TransportError | httpx.DecodingError

__all__ = ["USER_AGENT", "ClientCore", "ErrorDetail", "default_error_detail"]

USER_AGENT = "billing-milestones-python/0.1.0"
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-correlation-id", "x-amzn-requestid")
_REQUEST_ID_NAMES = frozenset(name.encode("ascii") for name in _REQUEST_ID_HEADERS)


@dataclass(frozen=True)
class ErrorDetail:
    """What a platform said in an error body."""

    messages: list[str] = field(default_factory=list)
    field: str | None = None


def default_error_detail(body: Any) -> ErrorDetail:
    if isinstance(body, dict):
        for key in ("message", "error", "error_message", "Message"):
            if isinstance(body.get(key), str):
                return ErrorDetail([body[key]])
    if isinstance(body, str) and body.strip():
        return ErrorDetail([body.strip()[:500]])
    return ErrorDetail()


#: A hook's verdict on a response: True retry (even a POST: it was rejected before processing),
#: False never retry, None apply the default rules.
RetryHook = Callable[[httpx.Response, Any], bool | None]
#: A hook that may build a more specific error for a response (e.g. a throttle disguised as a 500).
ErrorHook = Callable[[httpx.Response, Any, dict[str, Any]], errors.APIStatusError | None]


@dataclass(frozen=True)
class ClientCore:
    """Configuration and pure logic for one platform client."""

    platform: str
    base_url: httpx.URL
    credentials: Callable[[], Mapping[str, str]]
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: httpx.Timeout = field(default_factory=lambda: DEFAULT_TIMEOUT)
    default_headers: Mapping[str, str] = field(default_factory=dict)
    error_detail: Callable[[Any], ErrorDetail] = default_error_detail
    retry_hook: RetryHook | None = None
    error_hook: ErrorHook | None = None
    max_in_flight: int | None = None
    #: Pages one listing may take before it is refused with PaginationError.
    max_pages: int = DEFAULT_MAX_PAGES

    def __post_init__(self) -> None:
        check_base_url(self.base_url, field="base_url")

    def with_options(self, **changes: Any) -> ClientCore:
        return dataclasses.replace(self, **changes)

    def __repr__(self) -> str:
        # No credentials or headers: only what identifies the client, scrubbed of registered secrets anyway.
        return scrub(
            f"ClientCore(platform={self.platform!r}, base_url={str(self.base_url)!r}, "
            f"retry={self.retry!r}, timeout={self.timeout!r})"
        )

    # -- building -----------------------------------------------------------------------------------
    @functools.cached_property
    def _base(self) -> str:
        """The base URL as text without its trailing slash, what every relative path is joined to (worked out
        once per core: turning an httpx.URL back into text costs about a microsecond a request)."""
        return str(self.base_url).rstrip("/")

    @functools.cached_property
    def _origin(self) -> tuple[str, str, int | None]:
        return (self.base_url.scheme, self.base_url.host, self.base_url.port)

    def url_for(self, spec: RequestSpec) -> httpx.URL:
        return self._target(spec)[0]

    def _target(self, spec: RequestSpec) -> tuple[httpx.URL, bool]:
        """The request's URL and whether it is on the base URL's origin (only there do credentials go)."""
        path = spec.path
        if path.startswith(("http://", "https://")):
            url = _parsed_url(path)
            same = self.same_origin(url)
            if spec.authenticated and not same:
                raise errors.UntrustedHostError(
                    f"refusing to send credentials to {url.scheme}://{url.host}: only "
                    f"{self.base_url.scheme}://{self.base_url.host} is trusted for {self.platform}"
                )
            return url, same
        return _joined_url(self._base, path, self._origin)

    def same_origin(self, url: httpx.URL) -> bool:
        return (url.scheme, url.host, url.port) == self._origin

    def build_request(self, client: httpx.Client | httpx.AsyncClient, spec: RequestSpec, attempt: int) -> httpx.Request:
        url, same_origin = self._target(spec)
        headers: dict[str, str] = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self.default_headers:
            headers.update(self.default_headers)
        if spec.headers:
            headers.update(spec.headers)
        headers["X-Retry-Count"] = _RETRY_COUNTS[attempt] if attempt < len(_RETRY_COUNTS) else str(attempt)
        if spec.authenticated and same_origin:
            headers.update(self.credentials())
        # The usual case (no timeout of the request's own) skips resolve_timeout's checks: the core's is checked.
        timeout = self.timeout if spec.timeout is NOT_GIVEN else resolve_timeout(spec.timeout, self.timeout)
        content = None
        if spec.json is not None:
            content = dumps(spec.json, exact=True).encode()
            headers["Content-Type"] = "application/json"
        params = _encode_params(spec.params) if spec.params else None
        return make_request(client, spec.method, url, params=params, headers=headers, content=content, timeout=timeout)

    def max_retries_for(self, spec: RequestSpec) -> int:
        return self.retry.max_retries if isinstance(spec.max_retries, NotGiven) else spec.max_retries

    # -- classifying --------------------------------------------------------------------------------
    def is_success(self, response: httpx.Response) -> bool:
        return 200 <= response.status_code < 300

    def status_error(self, spec: RequestSpec, response: httpx.Response) -> errors.APIStatusError:
        body = _body_of(response)
        detail = self.error_detail(body)
        kwargs: dict[str, Any] = {
            "platform": self.platform,
            "method": spec.method,
            "path": response.request.url.path,
            "status_code": response.status_code,
            "request_id": request_id_of(response),
            "messages": [scrub(m) for m in detail.messages],
            "body": scrub_data(body),  # a server may echo a credential back
            "response": response,
        }
        if self.error_hook is not None:
            custom = self.error_hook(response, body, kwargs)
            if custom is not None:
                if custom.response is None:  # a hook that built its error from scratch
                    custom.response, custom.request = response, response.request
                return custom
        cls = errors.status_error_class(response.status_code)
        reason = f"HTTP {response.status_code} {response.reason_phrase}".strip()
        if cls is errors.RateLimitError:
            return errors.RateLimitError(reason, retry_after=parse_retry_after(response.headers), **kwargs)
        if cls is errors.UnprocessableEntityError:
            return errors.UnprocessableEntityError(reason, field=detail.field, **kwargs)
        return cls(reason, **kwargs)

    def connection_error(self, spec: RequestSpec, exc: SendFailure) -> errors.APIConnectionError:
        url = _safe_path(exc)
        kwargs: dict[str, Any] = {"platform": self.platform, "method": spec.method, "path": url}
        with contextlib.suppress(RuntimeError):  # a transport error raised without a request has none
            kwargs["request"] = exc.request
        text = scrub(f"{type(exc).__name__}: {exc}")
        if isinstance(exc, httpx.TimeoutException):
            return errors.APITimeoutError(f"request timed out ({text})", **kwargs)
        if isinstance(exc, httpx.DecodingError):
            return errors.APIConnectionError(f"the answer's body could not be decoded ({text})", **kwargs)
        return errors.APIConnectionError(f"connection failed ({text})", **kwargs)

    def should_retry(self, spec: RequestSpec, exc: BaseException) -> bool:
        """The one place that decides whether a failed attempt may be sent again."""
        if (
            spec.retryable == Retryable.NEVER
            or not isinstance(exc, errors.APIError)
            or isinstance(exc, errors.RequestNotSentError)
        ):
            return False
        post_like = spec.method.upper() not in _IDEMPOTENT and spec.retryable != Retryable.ALWAYS
        cause = exc.__cause__
        if isinstance(exc, errors.APIConnectionError):
            if not post_like:
                return True
            # Nothing was sent: the connection was never made or no pooled connection was free.
            return isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
        if not isinstance(exc, errors.APIStatusError) or exc.response is None:
            return False
        response = exc.response
        verdict = self._hint_verdict(response, exc.body)
        if verdict is not None:
            return verdict
        hint = parse_retry_after(response.headers)
        if hint is not None and hint > self.retry.max_retry_after:
            logger.info(
                "not retrying %s %s: server asks to wait %.1fs, above the %.0fs cap",
                spec.method,
                exc.path,
                hint,
                self.retry.max_retry_after,
            )
            return False
        status = response.status_code
        if post_like:
            return status in self.retry.post_safe_statuses
        return status in self.retry.retry_statuses

    def _hint_verdict(self, response: httpx.Response, body: Any) -> bool | None:
        if self.retry_hook is not None:
            verdict: bool | None = self.retry_hook(response, body)
            if verdict is not None:
                return verdict
        # Header lookup is case-insensitive and any default but "true"/"false" means no verdict.
        header = str(response.headers.get("x-should-retry", "")).strip().lower()  # pragma: no mutate
        if header in ("true", "false"):
            return header == "true"
        return None

    def retry_hint(self, exc: BaseException) -> float | None:
        """The server's requested wait for this failure, if it gave one within the cap."""
        response = exc.response if isinstance(exc, errors.APIStatusError) else None
        if response is not None:
            hint = parse_retry_after(response.headers)
            if hint is not None and hint <= self.retry.max_retry_after:
                return hint
        return None

    def wrap_response(self, response: httpx.Response, retries_taken: int) -> APIResponse:
        return APIResponse(response, retries_taken, self.platform, request_id_of(response))

    def raise_for_status(self, spec: RequestSpec, response: httpx.Response) -> None:
        if self.is_success(response):
            return
        raise self.status_error(spec, response)

    def raise_for_transport(self, spec: RequestSpec, exc: SendFailure) -> None:
        raise self.connection_error(spec, exc) from exc


# Parsing a URL costs more than the rest of building a request; a client sends the same few paths again and
# again (each page of a listing, each object it reads), and an httpx.URL is immutable, so parsed URLs are kept.
# The origin verdict is kept with the URL: it depends only on the URL and the base's origin, both in the key.
@functools.lru_cache(maxsize=1024)
def _joined_url(base: str, path: str, origin: tuple[str, str, int | None]) -> tuple[httpx.URL, bool]:
    url = httpx.URL(f"{base}/{path.lstrip('/')}")
    return url, (url.scheme, url.host, url.port) == origin


#: ``X-Retry-Count`` values of the first attempts, made once (a retry past them is formatted as it comes).
_RETRY_COUNTS: Final = tuple(str(n) for n in range(16))


@functools.lru_cache(maxsize=1024)
def _parsed_url(url: str) -> httpx.URL:
    return httpx.URL(url)


def request_id_of(response: httpx.Response) -> str | None:
    """The first of the request-id headers the response carries, in :data:`_REQUEST_ID_HEADERS` order.

    Most responses carry none: one pass over the header names says so (four case-insensitive lookups, each
    a pass of its own, cost about two microseconds a response); a response with one takes the lookups."""
    for raw_name, _ in response.headers.raw:
        if raw_name.lower() in _REQUEST_ID_NAMES:
            break
    else:
        return None
    for name in _REQUEST_ID_HEADERS:
        if name in response.headers:
            return response.headers[name]
    return None


def check_base_url(url: object, *, field: str) -> httpx.URL:
    """A base URL is absolute http(s) with a host; anything else is refused by name before any request
    (``"not a url"`` would otherwise end, requests later, as a connection error). A user name or password in
    it is refused too: the URL is shown in reprs, logs and errors, and httpx would send it as Basic auth
    beside the platform's own credentials. The error shows the URL without them."""
    shown = without_userinfo(str(url))
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(str(url))
    except httpx.InvalidURL as exc:
        message = scrub(f"{field}: {shown!r} is not a URL ({exc})")
        raise errors.ValidationError(message, field=field, value=shown) from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise errors.ValidationError(
            f"{field}: expected an absolute http(s) URL with a host, got {shown!r}", field=field, value=shown
        )
    if parsed.userinfo:
        raise errors.ValidationError(
            f"{field}: {shown!r} carries a user name or password; give the credentials to the client instead",
            field=field,
            value=shown,
        )
    return parsed


#: A URL's ``user:password@`` (what an error shows of a refused base URL leaves out).
_USERINFO: Final = re.compile(r"(?<=//)[^/?#@]*@")


def without_userinfo(text: str) -> str:
    """``text`` as an error may show it: a URL's user name and password, if any, as ``***``."""
    return _USERINFO.sub("***@", text)


def _body_of(response: httpx.Response) -> Any:
    try:
        return loads(response.content) if response.content else None
    except ValueError:
        return response.text[:2000]


def _safe_path(exc: SendFailure) -> str:
    try:
        return exc.request.url.path
    except RuntimeError:
        return "?"


def _encode_params(params: Mapping[str, Any] | None) -> dict[str, str] | None:
    if not params:
        return None
    out: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, list | tuple | set | frozenset):
            out[key] = ",".join(str(v) for v in value)
        else:
            out[key] = str(value)
    return out
