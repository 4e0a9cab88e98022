"""The runners end to end over a mock transport, beyond retries: secrets, hosts, timeouts, connections,
paging and parsing. Every test runs twice, once sync and once async (the harness fixture in conftest)."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pydantic
import pytest

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
    RetryPolicy,
    SyncRunner,
    logger,
)

GET = RequestSpec("GET", "/things")
POST = RequestSpec("POST", "/things", json={"title": "x"})


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
