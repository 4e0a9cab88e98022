"""Where LoopbackServer listens: IPv4 or IPv6 loopback, and a typed error naming host:port when it cannot."""

from __future__ import annotations

import asyncio
import re
import socket
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from billing_milestones.errors import ConfigError
from billing_milestones.sandbox import KantataSandbox, LoopbackServer, SandboxRequest
from billing_milestones.sandbox.kantata import DEMO_TOKEN


def _busy(family: socket.AddressFamily, host: str) -> Iterator[int]:
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.fixture
def busy_port() -> Iterator[int]:
    yield from _busy(socket.AF_INET, "127.0.0.1")


@pytest.fixture
def busy_port_v6() -> Iterator[int]:
    yield from _busy(socket.AF_INET6, "::1")


def test_ipv6_loopback_serves_the_emulator_on_a_bracketed_url() -> None:
    sandbox = KantataSandbox()
    workspace = sandbox.add_workspace("Over IPv6")
    with LoopbackServer(sandbox.asgi_app(), host="::1") as server:
        assert server.host == "::1"
        assert server.url == f"http://[::1]:{server.port}"
        response = httpx.get(
            f"{server.url}/api/v1/workspaces/{workspace}", headers={"Authorization": f"Bearer {DEMO_TOKEN}"}
        )
    assert response.status_code == 200, response.text
    assert response.json()["workspaces"][workspace]["title"] == "Over IPv6"


def test_ipv4_stays_the_default_and_its_url_has_no_brackets() -> None:
    with LoopbackServer(KantataSandbox().asgi_app()) as server:
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert httpx.get(f"{server.url}/api/v1/workspaces").status_code == 401  # served: no token, refused


def test_a_port_in_use_is_a_config_error_naming_host_and_port(busy_port: int) -> None:
    with pytest.raises(ConfigError) as caught:
        LoopbackServer(KantataSandbox().asgi_app(), port=busy_port)
    assert caught.value.key == "port"
    assert caught.value.message == f"cannot listen on 127.0.0.1:{busy_port}: already in use"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_an_ipv6_port_in_use_is_named_in_brackets(busy_port_v6: int) -> None:
    with pytest.raises(ConfigError, match=rf"^cannot listen on \[::1\]:{busy_port_v6}: already in use$"):
        LoopbackServer(KantataSandbox().asgi_app(), host="::1", port=busy_port_v6)


def test_an_address_this_machine_lacks_is_a_config_error_with_the_reason() -> None:
    # 192.0.2.0/24 is TEST-NET-1: documentation only, never assigned to a local interface.
    with pytest.raises(ConfigError, match=r"^cannot listen on 192\.0\.2\.1:0: ") as caught:
        LoopbackServer(KantataSandbox().asgi_app(), host="192.0.2.1")
    assert "already in use" not in caught.value.message
    assert caught.value.key == "port"


def test_the_sandbox_extra_brings_the_c_http_parser_and_loop() -> None:
    """uvicorn picks httptools and uvloop only when they are installed: the extra that serves the emulators
    installs them (about a sixth less server CPU a request than h11 on asyncio, in the scale run), and orjson,
    which the emulators' response encoder uses when it is there."""
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    names = {re.split(r"[<>=;\[ ]", r, maxsplit=1)[0] for r in pyproject["project"]["optional-dependencies"]["sandbox"]}
    assert {"starlette", "uvicorn", "httptools", "uvloop", "orjson"} <= names


def test_a_served_emulator_runs_on_httptools_and_uvloop_when_installed() -> None:
    pytest.importorskip("httptools")
    pytest.importorskip("uvloop")
    loops: list[str] = []

    class LoopSpy(KantataSandbox):
        def handle(self, request: SandboxRequest) -> httpx.Response:
            loops.append(type(asyncio.get_running_loop()).__module__)
            return super().handle(request)

    sandbox = LoopSpy()
    workspace = sandbox.add_workspace("W")
    with LoopbackServer(sandbox.asgi_app()) as server:
        url = f"{server.url}/api/v1/workspaces/{workspace}"
        assert httpx.get(url, headers={"Authorization": f"Bearer {DEMO_TOKEN}"}).status_code == 200
        assert server._server.config.http_protocol_class.__name__ == "HttpToolsProtocol"
    assert loops == ["uvloop"]
