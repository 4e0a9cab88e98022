"""The in-process httpx transport: drives an emulator's pipeline, sleeping the sync or the async way."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, ClassVar

import httpx

if TYPE_CHECKING:
    from ._emulator import Emulator

__all__ = ["SandboxTransport"]


Observer = Callable[[httpx.Request, httpx.Response], None]


class SandboxTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """One transport for ``httpx.Client`` and ``httpx.AsyncClient`` alike."""

    #: Called with every request an in-process sandbox answers and its answer, process-wide: the contract
    #: tests check each request the clients send anywhere in the suite against the vendors' descriptions.
    observers: ClassVar[list[Observer]] = []

    def __init__(
        self,
        emulator: Emulator,
        *,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.emulator = emulator
        #: How injected latency is waited out; tests pass a fake to stay fast.
        self._sleep = sleep
        self._async_sleep = async_sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        steps = self.emulator.steps(self.emulator.parse(request))
        try:
            while True:
                self._sleep(next(steps))
        except StopIteration as done:
            response: httpx.Response = done.value
        return self._observed(_detach(response, request))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        steps = self.emulator.steps(self.emulator.parse(request))
        try:
            while True:
                await self._async_sleep(next(steps))
        except StopIteration as done:
            response: httpx.Response = done.value
        return self._observed(_detach(response, request))

    def _observed(self, response: httpx.Response) -> httpx.Response:
        for observe in list(self.observers):
            observe(response.request, response)
        return response


def _detach(response: httpx.Response, request: httpx.Request) -> httpx.Response:
    """A fresh response bound to this request, so each client reads its own copy of the bytes."""
    return httpx.Response(response.status_code, headers=response.headers, content=response.content, request=request)
