"""ClientCore without I/O: building requests, the same-origin rule, error mapping, the retry decision."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from billing_milestones import errors
from billing_milestones._http import (
    ClientCore,
    ErrorDetail,
    RequestSpec,
    Retryable,
    RetryPolicy,
    default_error_detail,
    request_id_of,
)
from billing_milestones._http._core import USER_AGENT


@pytest.fixture
def core(kit: Any) -> ClientCore:
    return kit.make_core()  # type: ignore[no-any-return]


def build(core: ClientCore, spec: RequestSpec, attempt: int = 0) -> httpx.Request:
    with httpx.Client() as client:
        return core.build_request(client, spec, attempt)


# -- building ---------------------------------------------------------------------------------------------


def test_build_request_headers_and_body(core: ClientCore, kit: Any) -> None:
    spec = RequestSpec(
        "POST",
        "/billing_milestones",
        params={"workspace_id": 5, "include": ["a", "b"], "archived": False, "skip": None},
        json={"amount": Decimal("0.10")},
        headers={"X-Extra": "1"},
    )
    request = build(core, spec, attempt=2)
    assert str(request.url) == f"{kit.BASE_URL}/billing_milestones?workspace_id=5&include=a%2Cb&archived=false"
    assert request.headers["user-agent"] == USER_AGENT
    assert request.headers["accept"] == "application/json"
    assert request.headers["x-extra"] == "1"
    assert request.headers["x-retry-count"] == "2"
    assert request.headers["authorization"] == f"Bearer {kit.TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert request.content == b'{"amount":0.10}'


def test_build_request_without_body_or_credentials(core: ClientCore) -> None:
    request = build(core, RequestSpec("GET", "things/", authenticated=False))
    assert request.url.path == "/v1/things/"
    assert "authorization" not in request.headers
    assert "content-type" not in request.headers
    assert request.content == b""


def test_default_headers_and_spec_headers_but_not_over_the_retry_count(kit: Any) -> None:
    core = kit.make_core(default_headers={"X-Tenant": "t1", "X-Retry-Count": "99"})
    request = build(core, RequestSpec("GET", "/x", headers={"X-Tenant": "t2"}), attempt=1)
    assert request.headers["x-tenant"] == "t2"
    assert request.headers["x-retry-count"] == "1"


@pytest.mark.parametrize(
    ("url", "same"),
    [
        ("https://api.example.com/v1/x", True),
        ("https://api.example.com/other", True),
        ("https://API.EXAMPLE.COM/v1/x", True),
        ("http://api.example.com/v1/x", False),
        ("https://api.example.com:444/v1/x", False),
        ("https://evil.example.net/v1/x", False),
        ("https://api.example.com.evil.net/v1/x", False),
    ],
)
def test_same_origin(core: ClientCore, url: str, same: bool) -> None:
    assert core.same_origin(httpx.URL(url)) is same
    if same:
        assert build(core, RequestSpec("GET", url)).headers["authorization"].startswith("Bearer ")
    else:
        with pytest.raises(errors.PaginationError, match="refusing to send credentials"):
            build(core, RequestSpec("GET", url))
        assert "authorization" not in build(core, RequestSpec("GET", url, authenticated=False)).headers


def test_max_retries_for(core: ClientCore) -> None:
    assert core.max_retries_for(RequestSpec("GET", "/")) == 2
    assert core.max_retries_for(RequestSpec("GET", "/", max_retries=0)) == 0


def test_repr_holds_no_secret(kit: Any) -> None:
    core = kit.make_core(default_headers={"ApiIntegrationCode": kit.TOKEN})
    text = repr(core)
    assert kit.TOKEN not in text
    assert "testplat" in text and "api.example.com" in text


# -- error mapping ------------------------------------------------------------------------------------------


def respond(status: int, *, json: Any = None, content: bytes | None = None, headers: Any = None) -> httpx.Response:
    request = httpx.Request("POST", "https://api.example.com/v1/things?page=2")
    return httpx.Response(status, json=json, content=content, headers=headers, request=request)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 418])
def test_status_error_mapping(core: ClientCore, status: int) -> None:
    response = respond(status, json={"message": "nope"}, headers={"x-request-id": "abc"})
    err = core.status_error(RequestSpec("POST", "/things"), response)
    assert type(err) is errors.status_error_class(status)
    assert (err.platform, err.method, err.path, err.status_code) == ("testplat", "POST", "/v1/things", status)
    assert err.request_id == "abc"
    assert err.messages == ("nope",)
    assert err.body == {"message": "nope"}
    text = str(err)
    for part in ("testplat", "POST", "/v1/things", str(status), "abc", "nope"):
        assert part in text


def test_rate_limit_and_unprocessable_details(kit: Any) -> None:
    core = kit.make_core(error_detail=lambda body: ErrorDetail(["title is blank"], field="title"))
    spec = RequestSpec("GET", "/x")
    rate = core.status_error(spec, respond(429, headers={"retry-after": "90"}))
    assert isinstance(rate, errors.RateLimitError)
    assert rate.retry_after == 90.0
    unprocessable = core.status_error(spec, respond(422, json={}))
    assert isinstance(unprocessable, errors.UnprocessableEntityError)
    assert unprocessable.field == "title"
    assert unprocessable.messages == ("title is blank",)


def test_error_hook_may_build_a_more_specific_error(kit: Any) -> None:
    def hook(response: httpx.Response, body: Any, kwargs: dict[str, Any]) -> errors.APIStatusError | None:
        if body and body.get("code") == "THREAD":
            return errors.RateLimitError("thread threshold", retry_after=None, **kwargs)
        return None

    core = kit.make_core(error_hook=hook)
    err = core.status_error(RequestSpec("GET", "/x"), respond(500, json={"code": "THREAD"}))
    assert isinstance(err, errors.RateLimitError)
    assert err.status_code == 500
    assert type(core.status_error(RequestSpec("GET", "/x"), respond(500, json={}))) is errors.InternalServerError


@pytest.mark.parametrize(
    ("body", "messages"),
    [
        ({"message": "a"}, ["a"]),
        ({"error": "b"}, ["b"]),
        ({"error_message": "c"}, ["c"]),
        ({"Message": "d"}, ["d"]),
        ({"error": {"nested": 1}}, []),
        ("  plain text  ", ["plain text"]),
        ("", []),
        (None, []),
        ([1, 2], []),
    ],
)
def test_default_error_detail(body: Any, messages: list[str]) -> None:
    assert default_error_detail(body).messages == messages


def test_non_json_error_body_is_kept_as_text(core: ClientCore) -> None:
    err = core.status_error(RequestSpec("GET", "/x"), respond(502, content=b"<html>Bad gateway</html>"))
    assert err.body == "<html>Bad gateway</html>"
    assert err.messages == ("<html>Bad gateway</html>",)
    empty = core.status_error(RequestSpec("GET", "/x"), respond(503, content=b""))
    assert (empty.body, empty.messages) == (None, ())


def test_request_id_headers() -> None:
    assert request_id_of(respond(200, headers={"request-id": "r1"})) == "r1"
    assert request_id_of(respond(200, headers={"X-Correlation-ID": "r2"})) == "r2"
    assert request_id_of(respond(200)) is None


def test_connection_error_mapping(core: ClientCore) -> None:
    request = httpx.Request("GET", "https://api.example.com/v1/things?token=x")
    timeout = core.connection_error(RequestSpec("GET", "/things"), httpx.ReadTimeout("slow", request=request))
    assert type(timeout) is errors.APITimeoutError
    assert timeout.path == "/v1/things"
    refused = core.connection_error(RequestSpec("GET", "/things"), httpx.ConnectError("refused"))
    assert type(refused) is errors.APIConnectionError
    assert refused.path == "?"  # an error without a request still maps
    assert "ConnectError" in str(refused)


# -- the retry decision -----------------------------------------------------------------------------------


def status_failure(core: ClientCore, spec: RequestSpec, status: int, headers: Any = None) -> BaseException:
    try:
        core.raise_for_status(spec, respond(status, json={"message": "x"}, headers=headers))
    except errors.APIError as exc:
        return exc
    raise AssertionError("raise_for_status did not raise")


def transport_failure(core: ClientCore, spec: RequestSpec, exc: httpx.TransportError) -> BaseException:
    try:
        core.raise_for_transport(spec, exc)
    except errors.APIError as mapped:
        return mapped
    raise AssertionError("raise_for_transport did not raise")


@pytest.mark.parametrize(
    ("method", "retryable", "status", "expected"),
    [
        ("GET", Retryable.AUTO, 503, True),
        ("GET", Retryable.AUTO, 500, False),
        ("GET", Retryable.NEVER, 503, False),
        ("DELETE", Retryable.AUTO, 502, True),
        ("POST", Retryable.AUTO, 502, False),
        ("POST", Retryable.AUTO, 503, True),
        ("POST", Retryable.AUTO, 429, True),
        ("POST", Retryable.ALWAYS, 502, True),
        ("POST", Retryable.ALWAYS, 400, False),
        ("PATCH", Retryable.AUTO, 504, False),
    ],
)
def test_should_retry_statuses(core: ClientCore, method: str, retryable: str, status: int, expected: bool) -> None:
    spec = RequestSpec(method, "/x", retryable=retryable)
    assert core.should_retry(spec, status_failure(core, spec, status)) is expected


@pytest.mark.parametrize(
    ("exc", "post_retried"),
    [
        (httpx.ConnectError("x"), True),
        (httpx.ConnectTimeout("x"), True),
        (httpx.PoolTimeout("x"), True),
        (httpx.ReadTimeout("x"), False),
        (httpx.WriteTimeout("x"), False),
        (httpx.RemoteProtocolError("x"), False),
        (httpx.ReadError("x"), False),
    ],
)
def test_should_retry_transport_errors(core: ClientCore, exc: httpx.TransportError, post_retried: bool) -> None:
    get, post = RequestSpec("GET", "/x"), RequestSpec("POST", "/x")
    assert core.should_retry(get, transport_failure(core, get, exc)) is True
    assert core.should_retry(post, transport_failure(core, post, exc)) is post_retried


def test_should_retry_ignores_foreign_exceptions(core: ClientCore) -> None:
    spec = RequestSpec("GET", "/x")
    assert core.should_retry(spec, ValueError("x")) is False
    assert core.should_retry(spec, errors.PaginationError("loop")) is False
    bare = errors.InternalServerError("x", platform="p", method="GET", path="/x", status_code=503)
    assert core.should_retry(spec, bare) is False  # no response attached: nothing to judge


def test_retry_hint_is_capped(kit: Any) -> None:
    core = kit.make_core(retry=RetryPolicy(max_retry_after=10))
    spec = RequestSpec("GET", "/x")
    assert core.retry_hint(status_failure(core, spec, 503, {"retry-after": "5"})) == 5.0
    long_wait = status_failure(core, spec, 503, {"retry-after": "11"})
    assert core.retry_hint(long_wait) is None
    assert core.should_retry(spec, long_wait) is False


def test_with_options_returns_a_changed_copy(core: ClientCore) -> None:
    other = core.with_options(retry=RetryPolicy(max_retries=7))
    assert other.retry.max_retries == 7
    assert core.retry.max_retries == 2
    assert other.platform == core.platform
