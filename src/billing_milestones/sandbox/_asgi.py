"""The emulators as ASGI apps, and a loopback server to run them on a real port."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from itertools import chain
from typing import TYPE_CHECKING, Any, Final

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import URL
from starlette.requests import ClientDisconnect
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.types import Message, Receive, Scope, Send

from ..errors import ConfigError
from ._answer import Answer

if TYPE_CHECKING:
    from ._emulator import Emulator, SandboxRequest

__all__ = ["LoopbackServer", "combined_app", "emulator_app"]

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


class _QuietInjectedDrops(logging.Filter):
    """uvicorn logs every aborted response as an error; injected drops are expected, not errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not (isinstance(exc, ConnectionAbortedError) and "injected" in str(exc))


logging.getLogger("uvicorn.error").addFilter(_QuietInjectedDrops())


class _DroppedResponse(Response):
    """Starts a response and then fails, so the server closes the socket mid-response."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]})
        raise ConnectionAbortedError("sandbox: injected connection drop")


class _Endpoint:
    """The route's ASGI app: each request as Starlette would read it (its URL, headers and body), answered by
    the emulator's pipeline. A plain ASGI callable rather than a Request handler, so a request is not wrapped
    in a Starlette Request and then an httpx.Request on the way in (about a third of the app's own CPU)."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _body(receive)
        headers = _headers(scope["headers"])
        parsed = self.emulator.parse_served(
            scope["method"], _url_text(scope), headers, body, mount=scope.get("root_path", "")
        )
        answer = await self._answer(parsed)
        if isinstance(answer, httpx.Response):
            await _send(answer, send)
        else:
            await answer(scope, receive, send)

    async def _answer(self, parsed: SandboxRequest) -> httpx.Response | Response:
        steps = self.emulator.steps(parsed)
        try:
            while True:
                await asyncio.sleep(next(steps))
        except StopIteration as done:
            result: httpx.Response = done.value
        except httpx.ReadTimeout:
            await asyncio.sleep(3600)  # the client's read timeout fires long before this
            return _DroppedResponse()
        except (httpx.ConnectError, httpx.RemoteProtocolError):
            return _DroppedResponse()
        return result


#: A Host header of a lower-case name or IPv4 address and a port, which Starlette takes as the URL's netloc.
_SIMPLE_HOST: Final = re.compile(r"(?:[a-z0-9-]+\.)*[a-z0-9-]+:[1-9][0-9]{0,4}")


def _url_text(scope: Scope) -> str:
    """``str(starlette.datastructures.URL(scope=scope))``. For what clients send on loopback (http or https,
    a Host header of a lower-case name or IPv4 address and a port up to 65535, a path from ``/`` with nothing
    Starlette escapes) that text is ``scheme://host/path?query``, written here at once; anything else is
    Starlette's to write (tests/sandbox/test_served_headers.py compares the two)."""
    scheme = scope.get("scheme", "http")
    path: str = scope["path"]
    host = next((value for key, value in scope["headers"] if key == b"host"), None)
    if (
        host is not None
        and (scheme == "http" or scheme == "https")
        and path[:1] == "/"
        and "?" not in path
        and "#" not in path
        and "\\" not in path
    ):
        netloc = host.decode("latin-1")
        if _SIMPLE_HOST.fullmatch(netloc) and int(netloc.rpartition(":")[2]) <= 65535:
            query = scope.get("query_string", b"").decode()
            return f"{scheme}://{netloc}{path}?{query}" if query else f"{scheme}://{netloc}{path}"
    return str(URL(scope=scope))


def _headers(raw: list[tuple[bytes, bytes]]) -> httpx.Headers:
    """The request's headers as httpx reads them from their text (each byte as its latin-1 character, written
    back as ASCII, so a byte past ASCII is refused as it always was); an all-ASCII list, what every client
    sends, is handed over as the bytes that text would give, without decoding and encoding each."""
    if b"".join(chain.from_iterable(raw)).isascii():
        return httpx.Headers(raw)
    return httpx.Headers([(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw])


async def _send(result: httpx.Response, send: Send) -> None:
    """The emulator's answer as a Starlette ``Response`` of its content, status and headers would send it
    (header names in lower case, this body's own content-length, none for a status without a body), without
    building one, nor the ``httpx.Response`` itself for an ``Answer`` not yet made one (``Answer.served``)."""
    parts = result.served() if type(result) is Answer else None
    if parts is None:
        status = result.status_code
        headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in result.headers.items()
            if k.lower() not in ("content-length", "content-encoding")
        ]
        body = result.content
    else:
        status, headers, body = parts
    if not (status < 200 or status in (204, 304)):
        headers.append((b"content-length", str(len(body)).encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _body(receive: Receive) -> bytes:
    """The whole request body, as Starlette's ``Request.body()`` reads it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def emulator_app(emulator: Emulator) -> Starlette:
    return _EmulatorApp(_Endpoint(emulator))


def combined_app(apps: Mapping[str, Any]) -> Starlette:
    """Several emulators on one server, each under its own prefix (``/kantata``, ``/autotask``...)."""
    return _Combined(apps)


class _EmulatorApp(Starlette):
    """An emulator's app: one route taking every path and the methods it lists, to the endpoint. Such a request
    goes to the endpoint straight (``_straight``), past the middleware and routing that would only lead there;
    any other (another method, a root path, not HTTP), or any request once the app is changed (middleware,
    exception handlers, debug, routes), takes Starlette's way."""

    def __init__(self, endpoint: _Endpoint) -> None:
        self.endpoint = endpoint
        super().__init__(routes=[Route("/{path:path}", endpoint, methods=_METHODS)])
        self._made = list(self.router.routes)

    def direct(self) -> _Endpoint | None:
        """The endpoint, when the app is as it was made (so Starlette would lead every request it routes there)."""
        return None if _changed(self) else self.endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self.direct() if _routable(scope) and scope["path"].startswith("/") else None
        if endpoint is None:
            await super().__call__(scope, receive, send)
        else:
            await _straight(endpoint, scope, receive, send)


class _Combined(Starlette):
    """Emulator apps mounted under prefixes. A request whose path lies under a mount of an emulator app as it
    was made goes to that emulator's endpoint straight, with the root path the mount gives it; anything else
    (no mount, a redirect to add a slash, another kind of app...) takes Starlette's way."""

    def __init__(self, apps: Mapping[str, Any]) -> None:
        super().__init__(routes=[Mount(prefix, app=app) for prefix, app in apps.items()])
        self._made = list(self.router.routes)
        self._mounts = [(mount.path + "/", mount.path, mount.app) for mount in self._made if isinstance(mount, Mount)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if _routable(scope) and not _changed(self):
            path = scope["path"]
            for start, root, app in self._mounts:
                if path.startswith(start):  # the first mount that matches is the one Starlette takes
                    endpoint = app.direct() if isinstance(app, _EmulatorApp) else None
                    if endpoint is not None:
                        await _straight(endpoint, {**scope, "root_path": root}, receive, send)
                        return
                    break
        await super().__call__(scope, receive, send)


_METHOD_SET = frozenset(_METHODS)


def _routable(scope: Scope) -> bool:
    """An HTTP request with no root path, of a method the emulators' route lists."""
    return scope["type"] == "http" and not scope.get("root_path") and scope["method"] in _METHOD_SET


def _changed(app: _EmulatorApp | _Combined) -> bool:
    return bool(app.user_middleware or app.exception_handlers or app.debug or app.router.routes != app._made)


async def _straight(endpoint: _Endpoint, scope: Scope, receive: Receive, send: Send) -> None:
    """The endpoint's answer with Starlette's answer to an error raised before it starts one: the 500 its
    ServerErrorMiddleware sends (then the error goes on to the server, which logs it and closes)."""
    started = False

    async def sending(message: Message) -> None:
        nonlocal started
        if message["type"] == "http.response.start":
            started = True
        await send(message)

    try:
        await endpoint(scope, receive, sending)
    except Exception:
        if not started:
            await PlainTextResponse("Internal Server Error", status_code=500)(scope, receive, send)
        raise


class LoopbackServer:
    """Runs an ASGI app under uvicorn on loopback (127.0.0.1, or ``::1`` for IPv6) in a background thread.

    A port it cannot listen on (in use, or an address this machine does not have) is our ConfigError naming
    ``host:port`` (``key="port"``), raised here before anything starts, so every caller reports it the same way.

    ```pycon
    >>> from billing_milestones import KantataClient
    >>> from billing_milestones.sandbox import KantataSandbox
    >>> from billing_milestones.sandbox.kantata import DEMO_TOKEN
    >>> sandbox = KantataSandbox()
    >>> ids = sandbox.seed_demo()
    >>> with LoopbackServer(sandbox.asgi_app()) as server:
    ...     with KantataClient(DEMO_TOKEN, base_url=server.url + "/api/v1") as client:
    ...         print(len(list(client.milestones.list(ids["workspaces"]["USD"]))))
    4

    ```
    """

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._sock = _listening_socket(host, port)
        self.host, self.port = self._sock.getsockname()[:2]
        # No proxy in front: a client's X-Forwarded-* headers must not change the scheme or host the emulator
        # writes into the URLs it hands out (uvicorn trusts them from 127.0.0.1 by default), and the
        # middleware that reads them is one layer less a request.
        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False, proxy_headers=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{_netloc(self.host, self.port)}"

    def start(self, timeout: float = 10.0) -> LoopbackServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("sandbox loopback server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        # Do not wait for in-flight requests: an injected read timeout parks its handler for an hour, and a
        # graceful shutdown would hang on it until the join timed out, leaving the thread behind.
        self._server.force_exit = True
        self._thread.join(timeout=10)
        with contextlib.suppress(OSError):
            self._sock.close()

    def wait(self, until: Callable[[], bool] | None = None) -> None:
        """Block until the server stops, or until ``until()`` is true, looked at every fifth of a second
        (Ctrl-C raises KeyboardInterrupt here, unless a signal handler of the caller's makes ``until`` true)."""
        while self._thread.is_alive() and not (until is not None and until()):
            self._thread.join(0.2 if until is not None else 0.5)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @contextlib.contextmanager
    def running(self) -> Iterator[str]:
        with self:
            yield self.url


def _netloc(host: str, port: int) -> str:
    """``host:port``, an IPv6 address in brackets as URLs write it (``[::1]:8080``)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port``: IPv6 for an IPv6 address, else IPv4 (a name such as ``localhost``
    resolves over IPv4, as it always has here). Raises ConfigError naming ``host:port`` when it cannot bind."""
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        family = socket.AF_INET
    try:
        return _bound(family, host, port)
    except OSError as exc:
        why = "already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        raise ConfigError(f"cannot listen on {_netloc(host, port)}: {why}", key="port") from None


def _bound(family: socket.AddressFamily, host: str, port: int) -> socket.socket:
    # proto=IPPROTO_TCP, not the default 0: asyncio turns Nagle off (TCP_NODELAY) only on sockets whose proto
    # says TCP, and accepted sockets inherit the listener's. With Nagle on, the response body (written after
    # the headers) waited for the client's delayed ACK of the headers: ~40 ms per request on a kept-alive
    # connection (a fresh one escapes it, its first segments being ACKed at once).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock
