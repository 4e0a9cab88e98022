"""Run every blocking client test against the asyncio client as well.

A platform's conftest calls :func:`parametrise` from ``pytest_generate_tests`` and uses :func:`install` in
an autouse fixture. Each client test written against the blocking client then runs twice, ``[sync]`` and
``[async]``: in the async run the test module's client classes (and the conftest's ``make_client``) build
the asyncio client, wrapped in :class:`Blocking`, which awaits every call on one event loop and turns async
iterators back into (lazy) iterators. So a drift between the twins fails a test, with no test written twice.

Tests that cannot run through the wrapper (threads calling into one client, ``isinstance`` checks on the
client class, the async client's own tests) are marked ``@pytest.mark.sync_only`` or are async already.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

MODES = ("sync", "async")


class Blocking:
    """An asyncio client (or resource) driven from blocking code, one event loop for all its calls."""

    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_loop", loop)

    def __getattr__(self, name: str) -> Any:
        return wrap(getattr(self._target, name), self._loop)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._target, name, value)  # e.g. ``client.milestones.today = ...``

    def __enter__(self) -> Blocking:
        self._loop.run_until_complete(self._target.__aenter__())
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.run_until_complete(self._target.__aexit__(*exc))

    def __repr__(self) -> str:
        return repr(self._target)


def _iterate(source: AsyncIterator[Any], loop: asyncio.AbstractEventLoop) -> Iterator[Any]:
    try:
        while True:
            try:
                item = loop.run_until_complete(source.__anext__())
            except StopAsyncIteration:
                return
            yield wrap(item, loop)
    finally:
        aclose = getattr(source, "aclose", None)
        if aclose is not None and not loop.is_closed():
            loop.run_until_complete(aclose())


def wrap(value: Any, loop: asyncio.AbstractEventLoop) -> Any:
    """Await a coroutine, iterate an async iterator, wrap an async resource; anything else as it is."""
    if inspect.iscoroutine(value):
        return wrap(loop.run_until_complete(value), loop)
    if hasattr(value, "__anext__"):
        return _iterate(value, loop)
    if inspect.ismethod(value) or inspect.isfunction(value):

        @functools.wraps(value)
        def call(*args: Any, **kwargs: Any) -> Any:
            return wrap(value(*args, **kwargs), loop)

        return call
    if type(value).__name__.startswith("Async") and not isinstance(value, type):
        return Blocking(value, loop)
    return value


def _async_hook(hook: Callable[[Any], Any]) -> Callable[[Any], Any]:
    async def run(message: Any) -> None:
        hook(message)

    return run


def as_async_http(client: httpx.Client) -> httpx.AsyncClient:
    """The same transport, hooks and settings for the asyncio client (the sandbox transports do both)."""
    hooks = {name: [_async_hook(h) for h in found] for name, found in client.event_hooks.items()}
    return httpx.AsyncClient(
        transport=client._transport,  # type: ignore[arg-type]
        event_hooks=hooks,
        timeout=client.timeout,
        follow_redirects=client.follow_redirects,
    )


def async_factory(async_cls: Callable[..., Any], loop: asyncio.AbstractEventLoop) -> Callable[..., Blocking]:
    """Where a test builds the blocking client, build the asyncio one (its pool made asyncio too)."""

    def make(*args: Any, **kwargs: Any) -> Blocking:
        http = kwargs.get("http_client")
        if isinstance(http, httpx.Client):
            kwargs["http_client"] = as_async_http(http)
        return Blocking(async_cls(*args, **kwargs), loop)

    return make


def parametrise(metafunc: pytest.Metafunc, modules: frozenset[str], names: tuple[str, ...]) -> None:
    """Give ``client_mode`` [sync, async] to each blocking test of ``modules`` that builds or takes a client."""
    fn = metafunc.function
    if metafunc.module.__name__.rsplit(".", 1)[-1] not in modules or inspect.iscoroutinefunction(fn):
        return
    if metafunc.definition.get_closest_marker("sync_only") is not None or "aclient" in metafunc.fixturenames:
        return
    used = _names(inspect.unwrap(fn).__code__) | set(metafunc.fixturenames)
    if used & {*names, "make_client", "client"}:
        metafunc.parametrize("client_mode", MODES)


def _names(code: Any) -> set[str]:
    """The global names a test's code (nested functions and lambdas included) refers to."""
    out = set(code.co_names)
    for const in code.co_consts:
        if inspect.iscode(const):
            out |= _names(const)
    return out


def install(
    mode: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, twins: dict[str, Any]
) -> Iterator[None]:
    """In an ``[async]`` run, point the test module's (and conftest's) blocking names at the async twins."""
    if mode != "async":
        yield
        return
    loop = asyncio.new_event_loop()
    try:
        for target, swaps in ((request.module, twins), *((m, twins) for m in _conftests(request))):
            for name, async_cls in swaps.items():
                if hasattr(target, name):
                    monkeypatch.setattr(target, name, async_factory(async_cls, loop))
        yield
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def _conftests(request: pytest.FixtureRequest) -> list[Any]:
    import sys

    package = request.module.__name__.rsplit(".", 1)[0]
    conftest = sys.modules.get(f"{package}.conftest")
    return [conftest] if conftest is not None else []
