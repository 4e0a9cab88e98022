"""The emulator as an ASGI app on a real loopback port: the same pipeline over real sockets."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from billing_milestones import errors
from billing_milestones._http import AsyncRunner, ClientCore, RequestSpec, RetryPolicy, SyncRunner
from billing_milestones.sandbox import (
    Emulator,
    FaultPlan,
    LoopbackServer,
    SandboxRequest,
    combined_app,
    emulator_app,
    json_response,
)


class EchoEmulator(Emulator):
    """GET echoes the path and query; POST stores the body and echoes it with a running count."""

    platform = "echo"
    base_path = "/api"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.posts = 0

    def handle(self, request: SandboxRequest) -> httpx.Response:
        if request.method == "POST":
            self.posts += 1
            return json_response(201, {"n": self.posts, "body": request.json()}, {"x-request-id": f"r{self.posts}"})
        return json_response(200, {"path": request.path, "query": dict(request.query), "origin": request.origin})


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[EchoEmulator, str]]:
    emulator = EchoEmulator()
    with LoopbackServer(emulator.asgi_app()) as server:
        yield emulator, server.url


@pytest.fixture
def emulator(served: tuple[EchoEmulator, str]) -> Iterator[EchoEmulator]:
    emulator = served[0]
    emulator.faults = FaultPlan()
    emulator.posts = 0
    yield emulator
    emulator.faults = FaultPlan()


@pytest.fixture
def url(served: tuple[EchoEmulator, str]) -> str:
    return served[1]


def test_get(emulator: EchoEmulator, url: str) -> None:
    assert url.startswith("http://127.0.0.1:")
    response = httpx.get(f"{url}/api/things/1?a=b")
    assert response.status_code == 200
    assert response.json() == {"path": "/things/1", "query": {"a": "b"}, "origin": url}


def test_forwarded_headers_do_not_change_the_urls_the_emulator_hands_out(emulator: EchoEmulator, url: str) -> None:
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Host": "evil.example"}
    response = httpx.get(f"{url}/api/things/1", headers=headers)
    assert response.json()["origin"] == url  # as served: no proxy stands in front of a sandbox


def test_post_body_is_exact(emulator: EchoEmulator, url: str) -> None:
    response = httpx.post(f"{url}/api/things", content=b'{"amount": 0.10}')
    assert response.status_code == 201
    assert response.content == b'{"n":1,"body":{"amount":0.10}}'
    assert response.headers["x-request-id"] == "r1"


def test_drop_fault_is_a_remote_protocol_error(emulator: EchoEmulator, url: str) -> None:
    emulator.faults = FaultPlan().drop(times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(f"{url}/api/things", json={"a": 1})
    assert emulator.posts == 1  # the server handled it before the connection dropped
    assert httpx.get(f"{url}/api/x").status_code == 200


def test_rate_limit_fault_is_a_429_with_retry_after(emulator: EchoEmulator, url: str) -> None:
    emulator.faults = FaultPlan().rate_limit(retry_after=2, times=1)
    response = httpx.get(f"{url}/api/x")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert response.json() == {"message": "Too many requests"}
    assert httpx.get(f"{url}/api/x").status_code == 200


def test_read_timeout_fault_times_the_client_out(emulator: EchoEmulator, url: str) -> None:
    emulator.faults = FaultPlan().read_timeout(times=1)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{url}/api/things", json={}, timeout=httpx.Timeout(0.3))
    assert emulator.posts == 1


def _core(url: str) -> ClientCore:
    return ClientCore(
        platform="echo",
        base_url=httpx.URL(f"{url}/api"),
        credentials=lambda: {"Authorization": "Bearer t"},
        retry=RetryPolicy(jitter=0.0),
    )


def test_sync_runner_over_the_loopback_does_not_leak_connections(emulator: EchoEmulator, url: str) -> None:
    emulator.faults = FaultPlan().status(503, times=20)
    slept: list[float] = []
    with httpx.Client() as http:
        runner = SyncRunner(_core(url), http, sleep=slept.append)
        outcomes = []
        for _ in range(10):
            try:
                outcomes.append(runner.request(RequestSpec("GET", "/x")).retries_taken)
            except errors.InternalServerError as exc:
                outcomes.append(-exc.retries_taken)
        assert outcomes[:6] == [-2] * 6 and outcomes[6] == 2 and outcomes[7:] == [0, 0, 0]
        pool = http._transport._pool  # type: ignore[attr-defined]
        assert len(pool.connections) <= 1  # every retry reused the one keep-alive connection


async def test_async_runner_over_the_loopback(emulator: EchoEmulator, url: str) -> None:
    emulator.faults = FaultPlan().rate_limit(retry_after=1, times=1, method="POST")
    slept: list[float] = []

    async def asleep(seconds: float) -> None:
        slept.append(seconds)

    async with httpx.AsyncClient() as http:
        runner = AsyncRunner(_core(url), http, sleep=asleep)
        response = await runner.request(RequestSpec("POST", "/things", json={"amount": Decimal("1.50")}))
        assert response.json() == {"n": 1, "body": {"amount": Decimal("1.50")}}
        assert response.retries_taken == 1
        assert slept == [1.0]
        emulator.faults = FaultPlan().drop(times=1)
        with pytest.raises(errors.APIConnectionError):
            await runner.request(RequestSpec("POST", "/things", json={}))
        assert emulator.posts == 2
        assert len(http._transport._pool.connections) <= 1  # type: ignore[attr-defined]


def test_combined_app_mounts_each_emulator_under_its_prefix() -> None:
    a, b = EchoEmulator(), EchoEmulator()
    app = combined_app({"/alpha": emulator_app(a), "/beta": emulator_app(b)})
    with LoopbackServer(app) as server:
        got = httpx.get(f"{server.url}/beta/api/things?q=1").json()
        assert got == {"path": "/things", "query": {"q": "1"}, "origin": f"{server.url}/beta"}
        httpx.post(f"{server.url}/alpha/api/things", json={})
    assert (a.posts, b.posts) == (1, 0)
    assert b.count_requests() == 1


def test_stop_does_not_wait_for_a_parked_read_timeout() -> None:
    import time

    emulator = EchoEmulator(faults=FaultPlan().read_timeout())
    server = LoopbackServer(emulator.asgi_app()).start()
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{server.url}/api/x", timeout=httpx.Timeout(0.2))
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 5
    assert not server._thread.is_alive()


def test_served_connections_have_nagle_off(emulator: EchoEmulator, url: str) -> None:
    """Issue 18, point 11: with Nagle on the served socket, each response body waited for the client's delayed
    ACK of its headers, ~40 ms a request on a kept-alive connection against ~1.5 ms on a fresh one (30x).
    asyncio turns Nagle off only on accepted sockets whose protocol says TCP, and they inherit the listener's
    options: the listener is made with both (was a ratio of timings, which a loaded machine broke: 5.8 vs
    0.9 ms with the fix in place)."""
    server = LoopbackServer(emulator.asgi_app())
    try:
        listener = server._sock
        assert listener.proto == socket.IPPROTO_TCP
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        server._sock.close()
    # And requests on one kept-alive connection are answered (the path that stalled).
    host, port = httpx.URL(url).host, httpx.URL(url).port
    kept = http.client.HTTPConnection(host, port)
    try:
        for _ in range(3):
            kept.request("GET", "/api/probe")
            response = kept.getresponse()
            assert response.status == 200 and response.read()
    finally:
        kept.close()


@pytest.mark.parametrize(
    "answer",
    [
        json_response(200, {"a": 1}),
        json_response(429, {"message": "Too many requests"}, {"Retry-After": "2", "X-Request-Id": "r1"}),
        httpx.Response(204),
        httpx.Response(304, headers={"ETag": "x"}),
        httpx.Response(200, content=b"raw", headers={"Content-Encoding": "identity", "content-length": "99"}),
        httpx.Response(500, headers=[("X-Twice", "a"), ("x-twice", "b")]),
    ],
    ids=["json", "headers", "204", "304", "hop headers", "twice"],
)
async def test_an_answer_is_sent_as_a_starlette_response_of_it_would_send_it(answer: httpx.Response) -> None:
    from starlette.responses import Response

    from billing_milestones.sandbox._asgi import _send

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []
    expected: list[dict[str, Any]] = []

    async def into(messages: list[dict[str, Any]], message: Any) -> None:
        messages.append(message)

    await _send(answer, lambda m: into(sent, m))
    kept = {k: v for k, v in answer.headers.items() if k.lower() not in ("content-length", "content-encoding")}
    await Response(answer.content, status_code=answer.status_code, headers=kept)(
        {"type": "http"}, receive, lambda m: into(expected, m)
    )
    assert sent == expected
