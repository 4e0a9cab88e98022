"""A transport that stamps every response of an in-process sandbox with a fresh ``x-request-id``.

The emulators send no request id, and a raw response's ``request_id`` must be shown to be read from the
response it describes (not from an earlier one, not made up), so each response gets its own numbered id.
"""

from __future__ import annotations

import httpx


class RequestIds(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Wraps a sandbox transport (blocking and async); ``issued`` lists the ids handed out, in order."""

    def __init__(self, inner: httpx.BaseTransport | httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.issued: list[str] = []

    def _stamp(self, response: httpx.Response) -> httpx.Response:
        self.issued.append(f"req-{len(self.issued) + 1}")
        response.headers["x-request-id"] = self.issued[-1]
        return response

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(self.inner, httpx.BaseTransport)
        return self._stamp(self.inner.handle_request(request))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(self.inner, httpx.AsyncBaseTransport)
        return self._stamp(await self.inner.handle_async_request(request))
