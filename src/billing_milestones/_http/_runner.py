"""Thin sync and async executors over :class:`ClientCore`; everything but the I/O lives in the core."""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any, NoReturn, TypeVar

import httpx
from tenacity import AsyncRetrying, Retrying

from .. import errors
from . import _metrics
from ._before_send import asked, asked_async, before_send_hook
from ._bind import bound
from ._budget import AsyncRequestBudget, SyncRequestBudget, apace, check_budget, is_async_budget, pace
from ._collector import COLLECTOR_PAUSED
from ._core import SEND_FAILURES, ClientCore, SendFailure, _body_of
from ._flow import Blocking, Flow, RunnerHooks, called
from ._limits import AsyncioLimiter, AsyncLimiter, SyncLimiter, ThreadLimiter
from ._paging import PageGuard, next_link_error
from ._policy import retry_args
from ._raw import record
from ._redact import logger
from ._request import APIResponse, Operation, Page, PagedOperation, RequestSpec

__all__ = ["AsyncRunner", "SyncRunner"]

T = TypeVar("T")


class _RunnerBase:
    """Retry policy wiring and parsing shared by both runners."""

    def __init__(self, core: ClientCore, hooks: RunnerHooks | None) -> None:
        #: The options requests go out with; a hook's ``prepare`` may replace it (Autotask: the zone's URL).
        self.core = core
        self.hooks = hooks or RunnerHooks()

    def _retry_args(self, spec: RequestSpec, head_start: float = 0.0) -> dict[str, Any]:
        return retry_args(self.core, spec, head_start)

    def _finish(self, spec: RequestSpec, response: httpx.Response, attempt: int) -> APIResponse:
        if logger.isEnabledFor(logging.DEBUG):  # the URL's path is worked out only for a record kept
            logger.debug(
                "HTTP %s %s -> %d (retries_taken=%d)",
                spec.method,
                response.request.url.path,
                response.status_code,
                attempt,
            )
        try:
            self.core.raise_for_status(spec, response)
        except errors.APIError as exc:
            exc.retries_taken = attempt
            raise
        result = self.core.wrap_response(response, attempt)
        record(result)  # kept only while a raw call (``with_raw_response``) runs in this context
        return result

    def _transport_failed(self, spec: RequestSpec, exc: SendFailure, attempt: int) -> NoReturn:
        logger.debug("HTTP %s %s failed: %s", spec.method, spec.path, type(exc).__name__)
        try:
            self.core.raise_for_transport(spec, exc)
        except errors.APIError as mapped:
            mapped.retries_taken = attempt
            raise
        raise AssertionError("raise_for_transport returned")  # pragma: no cover - it always raises

    def _build(self, http: httpx.Client | httpx.AsyncClient, spec: RequestSpec, attempt: int) -> httpx.Request:
        try:
            return self.core.build_request(http, spec, attempt)
        except httpx.InvalidURL as exc:
            # Only a server-sent link (a next page) can be malformed here: configured URLs are checked early.
            raise next_link_error(spec, exc) from None

    def _parse(self, spec: RequestSpec, response: APIResponse, parse: Callable[[APIResponse], T]) -> T:
        try:
            with COLLECTOR_PAUSED:  # a parse frees nothing it makes: no collection can find anything in it
                return bound(parse(response), response.info)
        # A body of the wrong shape surfaces in a parser as any of these (pydantic's and our ValidationError
        # and a non-JSON body's JSONDecodeError are ValueErrors; absurdly deep nesting is a RecursionError);
        # APIErrors a parser raises pass through, holding the response they were read from.
        except errors.APIStatusError as exc:
            if exc.response is None:
                exc.response, exc.request = response.http, response.http.request
            raise
        except (ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError) as exc:
            raise errors.APIResponseValidationError(
                f"response did not match the documented shape: {exc}",
                platform=self.core.platform,
                method=spec.method,
                path=response.http.request.url.path,
                status_code=response.status_code,
                request_id=response.request_id,
                body=_body_of(response.http),
                retries_taken=response.retries_taken,
            ) from exc

    def _guard(self, op: PagedOperation[Any]) -> PageGuard:
        ceiling = self.core.max_pages if op.max_pages is None else min(op.max_pages, self.core.max_pages)
        return PageGuard(self.core.platform, ceiling)


class SyncRunner(_RunnerBase):
    """Executes operations with a blocking ``httpx.Client``."""

    def __init__(
        self,
        core: ClientCore,
        http_client: httpx.Client | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        limiter: SyncLimiter | None = None,
        hooks: RunnerHooks | None = None,
        request_budget: SyncRequestBudget | None = None,
    ) -> None:
        super().__init__(core, hooks)
        #: Consulted before each attempt (``request_budget=``, see ``_budget``); None: no budget.
        self.budget = check_budget(request_budget, blocking=True)
        self._lock = threading.Lock()
        self._owns_client = http_client is None
        self.http = http_client or httpx.Client(timeout=core.timeout, follow_redirects=False, verify=True)
        self._sleep = sleep
        #: Held around each send of a request with a ``limit_key`` (see ``_limits``); None: no limit.
        self.limiter: SyncLimiter | None = limiter
        if limiter is None and core.max_in_flight is not None:
            self.limiter = ThreadLimiter(core.max_in_flight)

    def derive(self, core: ClientCore) -> SyncRunner:
        """A runner for other options that shares this one's pool, sleep and concurrency limiter."""
        runner = SyncRunner(core, self.http, sleep=self._sleep, hooks=self.hooks)
        runner.limiter, runner._lock, runner.budget = self.limiter, self._lock, self.budget
        return runner

    def _attempt(self, spec: RequestSpec, n: int, meter: _metrics.Meter | None) -> APIResponse:
        """Send ``spec`` once (attempt ``n``: 0 first): within the budget and the limiter, timed when metered,
        a write asked of the caller's before-send hook first (``_before_send``: e.g. the sync engine's lease)."""
        if self.budget is not None:
            pace(self.budget, self.core, spec, self._sleep)
        hook = before_send_hook(spec)  # asked last, after every wait, right before the send (``_before_send``)
        if spec.limit_key is None or self.limiter is None:  # no limit: no context manager to enter
            request = self._build(self.http, spec, n)
            if hook is not None:
                asked(hook, spec)
            return self._finish(spec, self._sent(spec, request, meter, n), n)
        with self.limiter(spec.limit_key):
            # Built, and so charged to Autotask's hourly budget, once the slot is held: the server counts a
            # request as it arrives, and a unit charged before a long wait for a slot left the count ahead.
            request = self._build(self.http, spec, n)
            if hook is not None:
                asked(hook, spec)
            response = self._sent(spec, request, meter, n)
        return self._finish(spec, response, n)

    def _sent(self, spec: RequestSpec, request: httpx.Request, meter: _metrics.Meter | None, n: int) -> httpx.Response:
        try:
            return _metrics.send(self.http, request, meter, n)
        except SEND_FAILURES as exc:
            self._transport_failed(spec, exc, n)

    def request(self, spec: RequestSpec) -> APIResponse:
        """Send ``spec``, retried as the policy says. The first attempt goes out on its own: most calls
        succeed there, and tenacity's loop costs more than a loopback request's parsing. A first failure
        that may be retried is handed to that loop as its first attempt's outcome, so the policy (stop,
        wait, logging, metrics) sees it exactly as if the loop had sent it."""
        meter = _metrics.meter(self.core.platform)  # None unless the metrics logger is on
        started = time.monotonic()
        try:
            try:
                return self._attempt(spec, 0, meter)
            except errors.APIError as exc:
                if not self.core.should_retry(spec, exc):
                    raise
                failed: errors.APIError | None = exc
            for attempt in Retrying(sleep=self._sleep, **self._retry_args(spec, time.monotonic() - started)):
                with attempt:
                    first, failed = failed, None
                    if first is not None:
                        raise first
                    result = self._attempt(spec, attempt.retry_state.attempt_number - 1, meter)
            return result
        finally:
            if meter is not None:
                meter.flush(retried=False)

    def _send(self, op: Operation[T]) -> T:
        return self._parse(op.spec, self.request(op.spec), op.parse)

    def execute(self, op: Operation[T]) -> T:
        """Send ``op`` within the hooks: prepared first, and sent once more if a hook recovers its failure.
        A request that carries no credentials (zone discovery, a token renewal) goes out as it is."""
        if not op.spec.authenticated:
            return self._send(op)
        used = self._prepared()
        try:
            return self._send(op)
        except errors.APIError as exc:
            if not self._recovered(exc, used):
                raise
        return self._send(op)

    def _prepared(self) -> ClientCore:
        if not self.hooks.ready(self.core):
            with self._lock:
                self.core = self._drive(self.hooks.prepare(self.core), self._send)
        return self.core

    def _recovered(self, exc: errors.APIError, used: ClientCore) -> bool:
        with self._lock:
            core = self._drive(self.hooks.recover(exc, used, self.core), self._send)
        if core is not None:
            self.core = core
        return core is not None

    def run_flow(self, flow: Flow[T]) -> T:
        """Drive a flow: execute each operation it yields and send back the result (or throw the error)."""
        return self._drive(flow, self.execute)

    @staticmethod
    def _drive(flow: Flow[T], send: Callable[[Operation[Any]], Any]) -> T:
        """Hand the flow each step's result (or throw in its API error) until it returns. Only the flow's own
        resumption is watched for StopIteration: a step's cannot end the flow."""
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                step = flow.send(value) if error is None else flow.throw(error)
            except StopIteration as stop:
                result: T = stop.value
                return result
            if isinstance(step, Blocking):
                value, error = called(step.call)
                continue
            try:
                value, error = send(step), None
            except errors.APIError as exc:
                value, error = None, exc

    def pages(self, op: PagedOperation[T]) -> Iterator[Page[T]]:
        """Every page, lazily; the hooks prepare each page, and may recover a failure of the first."""
        spec: RequestSpec | None = op.first
        guard = self._guard(op)
        while spec is not None:
            guard.before(spec)
            used = self._prepared() if spec.authenticated else self.core
            try:
                response = self.request(spec)
            except errors.APIError as exc:
                if spec is not op.first or not spec.authenticated or not self._recovered(exc, used):
                    raise
                response = self.request(spec)
            page = self._parse(spec, response, functools.partial(op.parse, spec))
            guard.after(page)
            yield page
            spec = page.next

    def iterate(self, op: PagedOperation[T]) -> Iterator[T]:
        for page in self.pages(op):
            yield from page.items

    def iterate_flow(self, flow: Flow[PagedOperation[T]]) -> Iterator[T]:
        """Run a flow that ends in a listing (e.g. currency and checks first), then walk the listing."""
        yield from self.iterate(self.run_flow(flow))

    def close(self) -> None:
        if self._owns_client:
            self.http.close()


class AsyncRunner(_RunnerBase):
    """Executes operations with an ``httpx.AsyncClient``."""

    def __init__(
        self,
        core: ClientCore,
        http_client: httpx.AsyncClient | None = None,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        limiter: AsyncLimiter | None = None,
        hooks: RunnerHooks | None = None,
        request_budget: SyncRequestBudget | AsyncRequestBudget | None = None,
    ) -> None:
        super().__init__(core, hooks)
        #: Consulted before each attempt (``request_budget=``, awaited when its ``acquire`` is a coroutine).
        self.budget = check_budget(request_budget)
        self._awaited = is_async_budget(self.budget)
        self._lock = asyncio.Lock()
        self._owns_client = http_client is None
        self.http = http_client or httpx.AsyncClient(timeout=core.timeout, follow_redirects=False, verify=True)
        self._sleep = sleep
        #: Held around each send of a request with a ``limit_key`` (see ``_limits``); None: no limit.
        self.limiter: AsyncLimiter | None = limiter
        if limiter is None and core.max_in_flight is not None:
            self.limiter = AsyncioLimiter(core.max_in_flight)

    def derive(self, core: ClientCore) -> AsyncRunner:
        """A runner for other options that shares this one's pool, sleep and concurrency limiter."""
        runner = AsyncRunner(core, self.http, sleep=self._sleep, hooks=self.hooks)
        runner.limiter, runner._lock = self.limiter, self._lock
        runner.budget, runner._awaited = self.budget, self._awaited
        return runner

    async def _attempt(self, spec: RequestSpec, n: int, meter: _metrics.Meter | None) -> APIResponse:
        """The awaitable :meth:`SyncRunner._attempt`."""
        if self.budget is not None:
            await apace(self.budget, self.core, spec, self._sleep, self._awaited)
        hook = before_send_hook(spec)
        if spec.limit_key is None or self.limiter is None:
            request = self._build(self.http, spec, n)
            if hook is not None:
                await asked_async(hook, spec)
            return self._finish(spec, await self._sent(spec, request, meter, n), n)
        async with self.limiter(spec.limit_key):
            request = self._build(self.http, spec, n)
            if hook is not None:
                await asked_async(hook, spec)
            response = await self._sent(spec, request, meter, n)
        return self._finish(spec, response, n)

    async def _sent(
        self, spec: RequestSpec, request: httpx.Request, meter: _metrics.Meter | None, n: int
    ) -> httpx.Response:
        try:
            return await _metrics.asend(self.http, request, meter, n)
        except SEND_FAILURES as exc:
            self._transport_failed(spec, exc, n)

    async def request(self, spec: RequestSpec) -> APIResponse:
        """The awaitable :meth:`SyncRunner.request` (first attempt on its own, retries in tenacity's loop)."""
        meter = _metrics.meter(self.core.platform)  # None unless the metrics logger is on
        started = time.monotonic()
        try:
            try:
                return await self._attempt(spec, 0, meter)
            except errors.APIError as exc:
                if not self.core.should_retry(spec, exc):
                    raise
                failed: errors.APIError | None = exc
            head_start = time.monotonic() - started
            async for attempt in AsyncRetrying(sleep=self._sleep, **self._retry_args(spec, head_start)):
                with attempt:
                    first, failed = failed, None
                    if first is not None:
                        raise first
                    result = await self._attempt(spec, attempt.retry_state.attempt_number - 1, meter)
            return result
        finally:
            if meter is not None:
                meter.flush(retried=False)

    async def _send(self, op: Operation[T]) -> T:
        return self._parse(op.spec, await self.request(op.spec), op.parse)

    async def execute(self, op: Operation[T]) -> T:
        """The awaitable :meth:`SyncRunner.execute`."""
        if not op.spec.authenticated:
            return await self._send(op)
        used = await self._prepared()
        try:
            return await self._send(op)
        except errors.APIError as exc:
            if not await self._recovered(exc, used):
                raise
        return await self._send(op)

    async def _prepared(self) -> ClientCore:
        if not self.hooks.ready(self.core):
            async with self._lock:
                self.core = await self._drive(self.hooks.prepare(self.core), self._send)
        return self.core

    async def _recovered(self, exc: errors.APIError, used: ClientCore) -> bool:
        async with self._lock:
            core = await self._drive(self.hooks.recover(exc, used, self.core), self._send)
        if core is not None:
            self.core = core
        return core is not None

    async def run_flow(self, flow: Flow[T]) -> T:
        """The awaitable :meth:`SyncRunner.run_flow`."""
        return await self._drive(flow, self.execute)

    @staticmethod
    async def _drive(flow: Flow[T], send: Callable[[Operation[Any]], Awaitable[Any]]) -> T:
        """The awaitable :meth:`SyncRunner._drive`; a blocking step (a store's read or write) runs in a worker
        thread, never on the event loop."""
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                step = flow.send(value) if error is None else flow.throw(error)
            except StopIteration as stop:
                result: T = stop.value
                return result
            if isinstance(step, Blocking):
                value, error = await asyncio.to_thread(called, step.call)
                continue
            try:
                value, error = await send(step), None
            except errors.APIError as exc:
                value, error = None, exc

    async def pages(self, op: PagedOperation[T]) -> AsyncIterator[Page[T]]:
        """The async :meth:`SyncRunner.pages`."""
        spec: RequestSpec | None = op.first
        guard = self._guard(op)
        while spec is not None:
            guard.before(spec)
            used = await self._prepared() if spec.authenticated else self.core
            try:
                response = await self.request(spec)
            except errors.APIError as exc:
                if spec is not op.first or not spec.authenticated or not await self._recovered(exc, used):
                    raise
                response = await self.request(spec)
            page = self._parse(spec, response, functools.partial(op.parse, spec))
            guard.after(page)
            yield page
            spec = page.next

    async def iterate(self, op: PagedOperation[T]) -> AsyncIterator[T]:
        async for page in self.pages(op):
            for item in page.items:
                yield item

    async def iterate_flow(self, flow: Flow[PagedOperation[T]]) -> AsyncIterator[T]:
        """The async :meth:`SyncRunner.iterate_flow`."""
        async for item in self.iterate(await self.run_flow(flow)):
            yield item

    async def iterate_result(self, flow: Flow[Iterable[T]]) -> AsyncIterator[T]:
        """The items of a flow's result, the flow run at the first iteration (an async iterator is lazy; the
        sync view runs the same flow at once and returns ``iter(result)``)."""
        for item in await self.run_flow(flow):
            yield item

    async def aclose(self) -> None:
        if self._owns_client:
            await self.http.aclose()
