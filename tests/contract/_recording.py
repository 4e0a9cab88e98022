"""A transport that records every exchange a client has with an in-process sandbox, sync or async."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from billing_milestones._http import _redact

from ._openapi import Exchange

__all__ = ["Recorder", "isolated_secrets"]


@contextmanager
def isolated_secrets() -> Iterator[None]:
    """The secrets a module-scoped session registers are forgotten after it (the per-test reset in
    tests/conftest.py runs inside module fixtures, so it would keep them and redact them in later tests)."""
    with _redact._lock:
        before = set(_redact._secrets)
    try:
        yield
    finally:
        with _redact._lock:
            _redact._secrets.clear()
            _redact._secrets.update(before)


class Recorder(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Wraps a sandbox transport; ``exchanges`` holds each request with the response the client received.

    Recording at the transport, under the client, sees the bytes the SDK actually puts on the wire (headers the
    base client adds, the JSON its encoder writes), which is what a vendor's description speaks about.
    """

    def __init__(self, inner: httpx.BaseTransport | httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.exchanges: list[Exchange] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(self.inner, httpx.BaseTransport)
        response = self.inner.handle_request(request)
        response.read()
        self.exchanges.append(Exchange(request, response))
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(self.inner, httpx.AsyncBaseTransport)
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self.exchanges.append(Exchange(request, response))
        return response
