"""The runners end to end over a mock transport: every test runs twice, once sync and once async."""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
from typing import Any

import httpx
import pydantic
import pytest
import tenacity

from billing_milestones import errors
from billing_milestones._http import (
    DEFAULT_TIMEOUT,
    NOT_GIVEN,
    APIResponse,
    AsyncRunner,
    Operation,
    Page,
    PagedOperation,
    RequestSpec,
    Retryable,
    RetryPolicy,
    SyncRunner,
    logger,
)

GET = RequestSpec("GET", "/things")
POST = RequestSpec("POST", "/things", json={"title": "x"})


# -- Retry-After ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "20"}, 20.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after": "60"}, 60.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "2000", "retry-after": "9"}, 2.0),  # the ms header wins
        ({"retry-after-ms": "junk", "retry-after": "9"}, 9.0),
        ({"retry-after": "0"}, 0.5),  # no usable hint: backoff
        ({"retry-after": "-10"}, 0.5),
        ({"retry-after": "junk"}, 0.5),
        ({"retry-after": "nan"}, 0.5),
        ({"retry-after": "inf"}, 0.5),
        ({}, 0.5),
    ],
)
async def test_retry_after_table(harness: Any, kit: Any, headers: dict[str, str], expected: float) -> None:
    h = harness(kit.status_then_ok(429, headers=headers))
    response = await h.request(GET)
    assert response.status_code == 200
    assert h.sleeps == [expected]
    assert response.retries_taken == 1


async def test_retry_after_http_date(harness: Any, kit: Any) -> None:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    h = harness(kit.status_then_ok(503, headers={"retry-after": email.utils.format_datetime(when, usegmt=True)}))
    await h.request(GET)
    assert len(h.sleeps) == 1
    assert 27.0 <= h.sleeps[0] <= 30.0


async def test_retry_after_above_the_cap_gives_up_with_the_hint(harness: Any, kit: Any, caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="billing_milestones")
    h = harness(kit.always(429, headers={"retry-after": "61"}))
    with pytest.raises(errors.RateLimitError) as info:
        await h.request(GET)
    assert info.value.retry_after == 61.0
    assert info.value.retries_taken == 0
    assert h.attempts == 1
    assert h.sleeps == []
    assert any("above the 60s cap" in r.getMessage() for r in caplog.records)


async def test_retry_after_cap_is_configurable(harness: Any, kit: Any) -> None:
    h = harness(kit.status_then_ok(429, headers={"retry-after": "90"}), retry=RetryPolicy(max_retry_after=120))
    await h.request(GET)
    assert h.sleeps == [90.0]


# -- which statuses retry, and how often -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "retried"),
    [
        (408, True),
        (429, True),
        (502, True),
        (503, True),
        (504, True),
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (409, False),
        (422, False),
        (500, False),
    ],
)
async def test_which_statuses_retry(harness: Any, kit: Any, status: int, retried: bool) -> None:
    h = harness(kit.always(status))
    with pytest.raises(errors.status_error_class(status)) as info:
        await h.request(GET)
    assert info.value.status_code == status
    expected_attempts = 3 if retried else 1
    assert h.attempts == expected_attempts
    assert info.value.retries_taken == expected_attempts - 1
    assert h.sleeps == ([0.5, 1.0] if retried else [])
    assert [r.headers["x-retry-count"] for r in h.requests] == [str(i) for i in range(expected_attempts)]


async def test_max_retries_zero_per_client(harness: Any, kit: Any) -> None:
    h = harness(kit.always(503), retry=RetryPolicy(max_retries=0))
    with pytest.raises(errors.InternalServerError) as info:
        await h.request(GET)
    assert (h.attempts, info.value.retries_taken, h.sleeps) == (1, 0, [])


@pytest.mark.parametrize(("per_call", "attempts"), [(0, 1), (1, 2), (4, 5)])
async def test_max_retries_per_call(harness: Any, kit: Any, per_call: int, attempts: int) -> None:
    h = harness(kit.always(503))
    with pytest.raises(errors.InternalServerError) as info:
        await h.request(RequestSpec("GET", "/things", max_retries=per_call))
    assert h.attempts == attempts
    assert info.value.retries_taken == attempts - 1


async def test_backoff_doubles_to_the_cap(harness: Any, kit: Any) -> None:
    h = harness(kit.always(502), retry=RetryPolicy(max_retries=6, jitter=0.0, total_budget=1000))
    with pytest.raises(errors.InternalServerError):
        await h.request(GET)
    assert h.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


async def test_backoff_jitter_stays_within_75_to_100_percent(harness: Any, kit: Any) -> None:
    h = harness(kit.always(502), retry=RetryPolicy(max_retries=5, jitter=0.25, total_budget=1000))
    with pytest.raises(errors.InternalServerError):
        await h.request(GET)
    for wait, nominal in zip(h.sleeps, [0.5, 1.0, 2.0, 4.0, 8.0], strict=True):
        assert 0.75 * nominal <= wait <= nominal


async def test_total_budget_stops_retrying(harness: Any, kit: Any, caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="billing_milestones")
    policy = RetryPolicy(max_retries=10, initial_delay=1.0, jitter=0.0, total_budget=2.5)
    h = harness(kit.always(503), retry=policy)
    with pytest.raises(errors.InternalServerError) as info:  # the real error, not tenacity's RetryError
        await h.request(GET)
    # Waits 1 s, then the next wait (2 s) would bring the call to 3 s > 2.5 s.
    assert h.sleeps == [1.0]
    assert h.attempts == 2
    assert info.value.retries_taken == 1
    assert any("retry budget" in r.getMessage() for r in caplog.records)


async def test_a_hint_longer_than_the_budget_is_not_waited_for(harness: Any, kit: Any) -> None:
    h = harness(kit.always(429, headers={"retry-after": "50"}), retry=RetryPolicy(total_budget=30))
    with pytest.raises(errors.RateLimitError) as info:
        await h.request(GET)
    assert (h.attempts, h.sleeps, info.value.retry_after) == (1, [], 50.0)


# -- retries_taken -----------------------------------------------------------------------------------------


async def test_retries_taken_on_success(harness: Any, kit: Any) -> None:
    h = harness(kit.status_then_ok())
    response = await h.request(GET)
    assert isinstance(response, APIResponse)
    assert response.retries_taken == 0
    h2 = harness(kit.status_then_ok(503, 502))
    assert (await h2.request(GET)).retries_taken == 2
    assert (await h2.request(GET)).retries_taken == 0  # each call counts its own


async def test_retries_taken_on_connection_errors(harness: Any, kit: Any) -> None:
    h = harness(kit.raising(httpx.ConnectError))
    with pytest.raises(errors.APIConnectionError) as info:
        await h.request(GET)
    assert info.value.retries_taken == 2
    assert h.attempts == 3
    h2 = harness(kit.raising(httpx.ReadTimeout, times=1))
    assert (await h2.request(GET)).retries_taken == 1


async def test_retries_taken_after_parse(harness: Any, kit: Any) -> None:
    h = harness(kit.status_then_ok(503))
    result = await h.execute(Operation(GET, lambda r: (r.json()["ok"], r.retries_taken)))
    assert result == (True, 1)


# -- POST safety ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "replayed"),
    [
        (httpx.ReadTimeout, False),  # the server may have created it
        (httpx.WriteTimeout, False),
        (httpx.RemoteProtocolError, False),  # dropped after sending
        (httpx.ReadError, False),
        (502, False),
        (500, False),
        (504, False),
        (httpx.ConnectError, True),  # never reached the server
        (httpx.ConnectTimeout, True),
        (httpx.PoolTimeout, True),
        (429, True),  # rejected before processing
        (503, True),
    ],
)
async def test_unsafe_post_is_replayed_only_when_nothing_can_have_been_created(
    harness: Any, kit: Any, failure: Any, replayed: bool
) -> None:
    handler = kit.always(failure) if isinstance(failure, int) else kit.raising(failure)
    h = harness(handler)
    with pytest.raises(errors.APIError) as info:
        await h.request(POST)
    assert h.attempts == (3 if replayed else 1)
    assert info.value.retries_taken == h.attempts - 1
    assert info.value.method == "POST"
    if isinstance(failure, int):
        assert info.value.status_code == failure
    else:
        assert isinstance(info.value.__cause__, failure)


@pytest.mark.parametrize("failure", [httpx.ReadTimeout, httpx.RemoteProtocolError, 502, 500])
async def test_other_writes_by_method(harness: Any, kit: Any, failure: Any) -> None:
    handler = kit.always(failure) if isinstance(failure, int) else kit.raising(failure)
    # PUT and DELETE are idempotent: replayed after a timeout or drop (500 still never retries).
    put = harness(handler)
    with pytest.raises(errors.APIError):
        await put.request(RequestSpec("PUT", "/things/1", json={"a": 1}))
    assert put.attempts == (1 if failure == 500 else 3)
    # PATCH is treated like POST.
    patch = harness(handler)
    with pytest.raises(errors.APIError):
        await patch.request(RequestSpec("PATCH", "/things/1", json={"a": 1}))
    assert patch.attempts == 1


@pytest.mark.parametrize("failure", [httpx.ReadTimeout, httpx.RemoteProtocolError, 502])
async def test_always_retryable_post_is_replayed(harness: Any, kit: Any, failure: Any) -> None:
    handler = kit.always(failure) if isinstance(failure, int) else kit.raising(failure)
    h = harness(handler)
    with pytest.raises(errors.APIError):
        await h.request(RequestSpec("POST", "/query", json={"filter": []}, retryable=Retryable.ALWAYS))
    assert h.attempts == 3


async def test_never_retryable_get_is_not_replayed(harness: Any, kit: Any) -> None:
    h = harness(kit.always(503))
    with pytest.raises(errors.InternalServerError):
        await h.request(RequestSpec("GET", "/x", retryable=Retryable.NEVER))
    assert h.attempts == 1


async def test_the_real_error_reaches_the_caller_never_retry_error(harness: Any, kit: Any) -> None:
    h = harness(kit.raising(httpx.ReadTimeout))
    with pytest.raises(errors.APITimeoutError) as info:
        await h.request(GET)
    assert not isinstance(info.value, tenacity.RetryError)
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)
    assert "request timed out" in str(info.value)
    h2 = harness(kit.always(503, headers={"x-request-id": "req-7"}, body={"message": "maintenance"}))
    with pytest.raises(errors.InternalServerError) as info2:
        await h2.request(GET)
    assert info2.value.request_id == "req-7"
    assert info2.value.messages == ("maintenance",)
    assert info2.value.body == {"message": "maintenance"}
    assert info2.value.platform == "testplat"
    assert info2.value.path == "/v1/things"


# -- overrides: x-should-retry and the retry hook ---------------------------------------------------------


@pytest.mark.parametrize(("status", "header", "attempts"), [(400, "true", 3), (503, "false", 1), (503, "junk", 3)])
async def test_x_should_retry_overrides(harness: Any, kit: Any, status: int, header: str, attempts: int) -> None:
    h = harness(kit.always(status, headers={"x-should-retry": header}))
    with pytest.raises(errors.APIStatusError):
        await h.request(GET)
    assert h.attempts == attempts


async def test_retry_hook_verdicts(harness: Any, kit: Any) -> None:
    seen: list[Any] = []

    def hook(response: httpx.Response, body: Any) -> bool | None:
        seen.append(body)
        if body.get("code") == "THREAD_THRESHOLD":
            return True
        if body.get("code") == "PERMANENT":
            return False
        return None

    # A throttle disguised as a 500 is retried, even for a POST: it was rejected before processing.
    h = harness(kit.always(500, body={"code": "THREAD_THRESHOLD"}), retry_hook=hook)
    with pytest.raises(errors.InternalServerError):
        await h.request(POST)
    assert h.attempts == 3
    assert seen[0] == {"code": "THREAD_THRESHOLD"}
    # False overrides a normally retried status, and the hook wins over x-should-retry.
    h2 = harness(kit.always(503, headers={"x-should-retry": "true"}, body={"code": "PERMANENT"}), retry_hook=hook)
    with pytest.raises(errors.InternalServerError):
        await h2.request(GET)
    assert h2.attempts == 1
    # None applies the default rules.
    h3 = harness(kit.always(503, body={"code": "OTHER"}), retry_hook=hook)
    with pytest.raises(errors.InternalServerError):
        await h3.request(GET)
    assert h3.attempts == 3


# -- secrets ------------------------------------------------------------------------------------------------


async def test_secrets_appear_in_no_log_line_repr_or_error(harness: Any, kit: Any, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    token = kit.TOKEN
    queue = [
        httpx.Response(503, json={"message": "busy"}),
        httpx.Response(502, text=f"upstream rejected Bearer {token}"),
        httpx.Response(401, json={"message": f"token {token} revoked"}, headers={"x-request-id": "r1"}),
    ]
    h = harness(lambda request: queue.pop(0))
    with pytest.raises(errors.AuthenticationError) as info:
        await h.request(GET)
    assert h.attempts == 3
    # The credential really was sent, so the checks below are not vacuous.
    assert all(r.headers["authorization"] == f"Bearer {token}" for r in h.requests)
    logger.warning("careless log call with the token %s", token)
    messages = [r.getMessage() for r in caplog.records]
    assert any("retrying GET /things" in m for m in messages)
    assert any("careless log call" in m for m in messages)
    for message in messages:
        assert token not in message
    assert token not in caplog.text
    err = info.value
    assert "token <redacted> revoked" in str(err)
    for text in (str(err), repr(err), " ".join(err.messages), repr(h.core), repr(h.runner)):
        assert token not in text

    h2 = harness(kit.raising(httpx.ConnectError))
    with pytest.raises(errors.APIConnectionError) as info2:
        await h2.request(GET)
    assert token not in str(info2.value)


# -- hosts and redirects --------------------------------------------------------------------------------


async def test_credentials_never_go_to_another_host(harness: Any, kit: Any) -> None:
    h = harness(kit.status_then_ok())
    with pytest.raises(errors.PaginationError, match=r"evil\.example\.net"):
        await h.request(RequestSpec("GET", "https://evil.example.net/v1/things?page=2"))
    assert h.attempts == 0
    # Another port or scheme on the same host is another origin, too.
    for url in ("https://api.example.com:8443/v1/x", "http://api.example.com/v1/x"):
        with pytest.raises(errors.PaginationError):
            await h.request(RequestSpec("GET", url))
    assert h.attempts == 0
    # An absolute URL on the configured host is fine and carries the credentials.
    await h.request(RequestSpec("GET", f"{kit.BASE_URL}/things?page=2"))
    assert h.requests[-1].headers["authorization"].startswith("Bearer ")
    # A call that opts out of credentials may go elsewhere, without them.
    await h.request(RequestSpec("GET", "https://zones.example.org/zoneInformation", authenticated=False))
    assert h.requests[-1].url.host == "zones.example.org"
    assert "authorization" not in h.requests[-1].headers


async def test_redirects_are_not_followed(harness: Any, kit: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "evil.example.net":
            return httpx.Response(200, json={"stolen": request.headers.get("authorization")})
        return httpx.Response(302, headers={"location": "https://evil.example.net/collect"})

    # Even an http client configured to follow redirects does not follow them for us.
    h = harness(handler, follow_redirects=True)
    with pytest.raises(errors.APIStatusError) as info:
        await h.request(GET)
    assert info.value.status_code == 302
    assert type(info.value) is errors.APIStatusError
    assert [r.url.host for r in h.requests] == ["api.example.com"]


# -- timeouts ------------------------------------------------------------------------------------------------


def _timeout_of(request: httpx.Request) -> dict[str, float | None]:
    return dict(request.extensions["timeout"])


async def test_default_timeouts(harness: Any, kit: Any) -> None:
    assert (DEFAULT_TIMEOUT.read, DEFAULT_TIMEOUT.connect, DEFAULT_TIMEOUT.write, DEFAULT_TIMEOUT.pool) == (
        30.0,
        5.0,
        30.0,
        30.0,
    )
    h = harness(kit.status_then_ok())
    await h.request(GET)
    assert _timeout_of(h.requests[-1]) == {"connect": 5.0, "read": 30.0, "write": 30.0, "pool": 30.0}
    await h.request(RequestSpec("GET", "/x", timeout=NOT_GIVEN))
    assert _timeout_of(h.requests[-1])["read"] == 30.0


async def test_timeout_none_means_no_timeout_explicitly(harness: Any, kit: Any) -> None:
    h = harness(kit.status_then_ok())
    await h.request(RequestSpec("GET", "/x", timeout=None))
    assert _timeout_of(h.requests[-1]) == {"connect": None, "read": None, "write": None, "pool": None}
    await h.request(RequestSpec("GET", "/x", timeout=2.5))
    assert set(_timeout_of(h.requests[-1]).values()) == {2.5}
    await h.request(RequestSpec("GET", "/x", timeout=httpx.Timeout(7.0, connect=1.0)))
    assert _timeout_of(h.requests[-1]) == {"connect": 1.0, "read": 7.0, "write": 7.0, "pool": 7.0}


async def test_a_client_level_timeout(harness: Any, kit: Any) -> None:
    h = harness(kit.status_then_ok(), timeout=httpx.Timeout(None))
    await h.request(GET)
    assert _timeout_of(h.requests[-1])["read"] is None


def test_runners_own_pool_uses_the_default_timeout_and_no_redirects(kit: Any) -> None:
    runner = SyncRunner(kit.make_core())
    assert runner.http.timeout == DEFAULT_TIMEOUT
    assert runner.http.follow_redirects is False
    runner.close()
    assert runner.http.is_closed
    external = httpx.Client()
    SyncRunner(kit.make_core(), external).close()
    assert not external.is_closed  # a caller's client is the caller's to close
    external.close()


async def test_async_runners_own_pool(kit: Any) -> None:
    runner = AsyncRunner(kit.make_core())
    assert runner.http.timeout == DEFAULT_TIMEOUT
    await runner.aclose()
    assert runner.http.is_closed
    external = httpx.AsyncClient()
    await AsyncRunner(kit.make_core(), external).aclose()
    assert not external.is_closed
    await external.aclose()


# -- connections ----------------------------------------------------------------------------------------------


async def test_retries_do_not_leak_connections(harness: Any, kit: Any) -> None:
    stream = kit.CountingStream
    stream.opened = stream.closed = 0
    statuses = iter([503, 502, 504] * 20 + [200] * 100)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(next(statuses), stream=stream(b'{"ok": true}'))

    h = harness(handler, retry=RetryPolicy(max_retries=2, jitter=0.0, total_budget=1000))
    failures = 0
    for _ in range(30):
        try:
            await h.request(GET)
        except errors.InternalServerError:
            failures += 1
    assert failures == 20
    assert stream.opened == h.attempts == 20 * 3 + 10
    assert stream.closed == stream.opened


# -- pagination ----------------------------------------------------------------------------------------------


def _pages(next_of: Any, max_pages: int = 100_000) -> PagedOperation[int]:
    def parse(spec: RequestSpec, response: APIResponse) -> Page[int]:
        data = response.json()
        return Page(items=data["items"], next=next_of(spec, data), response=response, total=data.get("total"))

    return PagedOperation(RequestSpec("GET", "/items", params={"page": 1}), parse, max_pages=max_pages)


def _paged_handler(last_page: int | None) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        more = last_page is None or page < last_page
        return httpx.Response(200, json={"items": [page * 10, page * 10 + 1], "more": more})

    return handler


def _next_page(spec: RequestSpec, data: Any) -> RequestSpec | None:
    if not data["more"]:
        return None
    assert spec.params is not None
    return RequestSpec("GET", "/items", params={"page": int(str(spec.params["page"])) + 1})


async def test_pagination_walks_every_page(harness: Any) -> None:
    h = harness(_paged_handler(3))
    assert await h.items(_pages(_next_page)) == [10, 11, 20, 21, 30, 31]
    assert h.attempts == 3


async def test_pagination_loop_guard(harness: Any) -> None:
    h = harness(_paged_handler(None))
    got: list[int] = []
    with pytest.raises(errors.PaginationError, match="already followed"):
        await h.items(_pages(lambda spec, data: spec), got)
    assert got == [10, 11]  # the first page was delivered, the repeat never sent
    assert h.attempts == 1


async def test_pagination_max_pages(harness: Any) -> None:
    h = harness(_paged_handler(None))
    got: list[int] = []
    with pytest.raises(errors.PaginationError, match="after 2 pages"):
        await h.items(_pages(_next_page, max_pages=2), got)
    assert got == [10, 11, 20, 21]
    assert h.attempts == 2


async def test_pagination_refuses_a_next_page_on_another_host(harness: Any) -> None:
    h = harness(_paged_handler(None))
    got: list[int] = []
    with pytest.raises(errors.PaginationError, match="refusing to send credentials"):
        await h.items(_pages(lambda spec, data: RequestSpec("GET", "https://evil.example.net/items?page=2")), got)
    assert got == [10, 11]
    assert h.attempts == 1


# -- parsing ----------------------------------------------------------------------------------------------------


class Thing(pydantic.BaseModel):
    id: int
    title: str


@pytest.mark.parametrize(
    ("content", "parse"),
    [
        (b'{"id": "not a number", "title": "x"}', lambda r: Thing.model_validate(r.json())),
        (b'{"data": []}', lambda r: r.json()["items"]),
        (b"[]", lambda r: r.json()[0]),
        (b"<html>maintenance</html>", lambda r: r.json()),
        (b'{"id": 1}', lambda r: r.json()["id"].upper()),
    ],
)
async def test_parse_failures_become_response_validation_errors(
    harness: Any, kit: Any, content: bytes, parse: Any
) -> None:
    queue = [httpx.Response(503), httpx.Response(200, content=content, headers={"x-request-id": "rid-5"})]
    h = harness(lambda request: queue.pop(0))
    with pytest.raises(errors.APIResponseValidationError) as info:
        await h.execute(Operation(GET, parse))
    err = info.value
    assert (err.status_code, err.request_id, err.retries_taken, err.path) == (200, "rid-5", 1, "/v1/things")
    assert err.body is not None


async def test_api_errors_raised_by_a_parser_pass_through(harness: Any, kit: Any) -> None:
    def parse(response: APIResponse) -> None:
        raise errors.NotFoundError("item: null", platform="testplat", method="GET", path="/x", status_code=200)

    h = harness(kit.status_then_ok())
    with pytest.raises(errors.NotFoundError):
        await h.execute(Operation(GET, parse))


async def test_decimal_bodies_are_exact(harness: Any) -> None:
    h = harness(lambda request: httpx.Response(200, content=request.content))
    response = await h.request(RequestSpec("POST", "/echo", json={"amount": __import__("decimal").Decimal("0.10")}))
    assert h.requests[0].content == b'{"amount":0.10}'
    assert h.requests[0].headers["content-type"] == "application/json"
    assert str(response.json()["amount"]) == "0.10"


async def test_floats_are_refused_before_sending(harness: Any, kit: Any) -> None:
    h = harness(kit.status_then_ok())
    with pytest.raises(TypeError, match="float"):
        await h.request(RequestSpec("POST", "/x", json={"amount": 0.1}))
    assert h.attempts == 0


class _Aware:
    def __init__(self) -> None:
        self.info: Any = None

    def _bind_response(self, info: Any) -> None:
        self.info = info


class _NotCallable:
    _bind_response = "not a method"


async def test_results_are_bound_to_their_response_by_type(harness: Any, kit: Any) -> None:
    """Every object whose type has ``_bind_response`` learns its response; anything else passes untouched."""
    h = harness(kit.status_then_ok())
    results = await h.execute(Operation(GET, lambda r: [_Aware(), 3, _NotCallable(), _Aware()]))
    assert [type(x).__name__ for x in results] == ["_Aware", "int", "_NotCallable", "_Aware"]
    assert results[0].info is not None and results[0].info == results[3].info
    assert results[0].info.status_code == 200
    single = await h.execute(Operation(GET, lambda r: _Aware()))
    assert single.info is not None and single.info.platform == "testplat"
