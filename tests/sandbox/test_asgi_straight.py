"""A request to a mounted emulator goes to its endpoint straight; every answer is Starlette's, byte for byte."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from billing_milestones.sandbox import Emulator, LoopbackServer, SandboxRequest, combined_app, json_response
from billing_milestones.sandbox._asgi import _METHODS, _Endpoint


class _Echo(Emulator):
    """Echoes what it was asked; a path with "boom" raises before any answer."""

    platform = "echo"
    base_path = "/api"

    def handle(self, request: SandboxRequest) -> httpx.Response:
        if "boom" in request.path:
            raise RuntimeError("boom")
        return json_response(200, {"m": request.method, "p": request.path, "o": request.origin, "q": request.query})


def _starlettes_way(emulator: Emulator) -> Starlette:
    """The apps as Starlette alone routes them (combined_app's shape before the straight way)."""
    inner = Starlette(routes=[Route("/{path:path}", _Endpoint(emulator), methods=_METHODS)])
    return Starlette(routes=[Mount("/alpha", app=inner)])


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[str, str]]:
    emulator = _Echo()
    straight = combined_app({"/alpha": emulator.asgi_app()})
    with LoopbackServer(straight) as ours, LoopbackServer(_starlettes_way(emulator)) as theirs:
        yield ours.url, theirs.url


def _exchange(url: str, request: bytes) -> bytes:
    """Everything the server sends for one request on a fresh connection, until it closes or goes quiet."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request)
        sock.settimeout(0.5)
        got = b""
        try:
            while chunk := sock.recv(65536):
                got += chunk
        except TimeoutError:
            pass
    return re.sub(rb"date: [^\r]*\r\n", b"", got)


@pytest.mark.parametrize(
    "request_line",
    [
        b"GET /alpha/api/things/1?q=a%2Cb HTTP/1.1",
        b"POST /alpha/api/things HTTP/1.1",
        b"HEAD /alpha/api/x HTTP/1.1",
        b"GET /alpha/ HTTP/1.1",
        b"GET /alpha HTTP/1.1",  # no mount matches: Starlette redirects to add the slash
        b"GET /beta/api/x HTTP/1.1",  # no mount at all: 404
        b"TRACE /alpha/api/x HTTP/1.1",  # a method the route does not list: 405
        b"GET /alpha/api/boom HTTP/1.1",  # the emulator fails before answering: 500, then the connection closes
        b"GET /alpha/api/%7Ex%20y HTTP/1.1",  # a path httpx reads for the emulator
    ],
)
def test_every_answer_is_the_one_starlette_alone_gives(servers: tuple[str, str], request_line: bytes) -> None:
    ours, theirs = servers
    request = request_line + b"\r\nHost: example.test:8080\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    answer = _exchange(ours, request)
    assert answer and answer == _exchange(theirs, request)


def test_a_mounted_emulator_is_reached_without_starlettes_layers(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    through = Starlette.__call__

    async def counted(self: Starlette, scope: Scope, receive: Receive, send: Send) -> None:
        calls.append(scope["path"])
        await through(self, scope, receive, send)

    monkeypatch.setattr(Starlette, "__call__", counted)
    emulator = _Echo()
    with LoopbackServer(combined_app({"/alpha": emulator.asgi_app()})) as server:
        got = httpx.get(f"{server.url}/alpha/api/things?x=1").json()
        assert httpx.get(f"{server.url}/nowhere").status_code == 404
    assert got == {"m": "GET", "p": "/things", "o": f"{server.url}/alpha", "q": {"x": "1"}}
    assert calls == ["/nowhere"]


def test_an_app_given_middleware_takes_starlettes_way() -> None:
    seen: list[str] = []

    class Spy:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            seen.append(scope["path"])
            await self.app(scope, receive, send)

    emulator = _Echo()
    inner = emulator.asgi_app()
    inner.user_middleware.append(Middleware(Spy))
    app = combined_app({"/alpha": inner})
    app.user_middleware.append(Middleware(Spy))
    with LoopbackServer(app) as server:
        assert httpx.get(f"{server.url}/alpha/api/x").status_code == 200
        alone = LoopbackServer(emulator.asgi_app()).start()
        try:
            assert httpx.get(f"{alone.url}/api/y").status_code == 200
        finally:
            alone.stop()
    assert seen == ["/alpha/api/x", "/alpha/api/x"]
