"""The collector pause around a parse and a page's conversion: off inside, restored after, even on error."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest

from billing_milestones import errors
from billing_milestones._http import (
    AsyncRunner,
    Flow,
    Operation,
    Page,
    PagedOperation,
    RequestSpec,
    SyncRunner,
)
from billing_milestones._http._collector import COLLECTOR_PAUSED, CollectorPause
from billing_milestones._listing import CheckedListing, awalk, walk

from .conftest import make_core


@pytest.fixture(autouse=True)
def _collector_running() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    assert not COLLECTOR_PAUSED.active
    if not was:
        gc.disable()


def test_a_pause_switches_the_collector_off_and_back_on() -> None:
    pause = CollectorPause()
    with pause:
        assert not gc.isenabled() and pause.active
    assert gc.isenabled() and not pause.active


def test_a_pause_restores_on_error() -> None:
    pause = CollectorPause()
    with pytest.raises(RuntimeError), pause:
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_pause_leaves_a_collector_the_caller_switched_off_off() -> None:
    gc.disable()
    with CollectorPause():
        pass
    assert not gc.isenabled()


def test_nested_and_overlapping_pauses_resume_only_when_the_last_ends() -> None:
    """Two threads' spans overlap: the first to leave must not switch the collector on under the second,
    and the second (which entered with the collector already off) must still switch it back on."""
    pause = CollectorPause()
    entered, release = threading.Event(), threading.Event()
    seen: list[bool] = []

    def other() -> None:
        with pause:
            entered.set()
            release.wait(5)
            seen.append(gc.isenabled())

    pause.__enter__()
    thread = threading.Thread(target=other)
    thread.start()
    assert entered.wait(5)
    pause.__exit__(None, None, None)
    assert not gc.isenabled()  # the other span is still open
    release.set()
    thread.join(5)
    assert seen == [False] and gc.isenabled()


def _handler(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"items": [1, 2, 3]})


def _runner(mode: str) -> SyncRunner | AsyncRunner:
    transport = httpx.MockTransport(_handler)
    if mode == "sync":
        return SyncRunner(make_core(), httpx.Client(transport=transport))
    return AsyncRunner(make_core(), httpx.AsyncClient(transport=transport))


async def _execute(runner: SyncRunner | AsyncRunner, op: Operation[Any]) -> Any:
    if isinstance(runner, SyncRunner):
        return runner.execute(op)
    return await runner.execute(op)


async def test_a_parse_runs_with_the_collector_paused(mode: str) -> None:
    seen: list[bool] = []

    def parse(response: Any) -> list[int]:
        seen.append(gc.isenabled())
        return list(response.json()["items"])

    assert await _execute(_runner(mode), Operation(RequestSpec("GET", "/things"), parse)) == [1, 2, 3]
    assert seen == [False] and gc.isenabled()


async def test_a_failing_parse_is_still_a_typed_error_and_the_collector_resumes(mode: str) -> None:
    def parse(response: Any) -> int:
        raise ValueError("amount: not a number")

    with pytest.raises(errors.APIResponseValidationError, match="amount"):
        await _execute(_runner(mode), Operation(RequestSpec("GET", "/things"), parse))
    assert gc.isenabled()


def _listing(seen: list[bool], fail_on: int | None = None) -> Flow[CheckedListing[int, str]]:
    """A one-page listing of 1, 2, 3 whose converter records in ``seen`` whether the collector was on."""

    def convert(item: int) -> str:
        seen.append(gc.isenabled())
        if item == fail_on:
            raise errors.TranslationError(f"item {item}", field="amount", source=str(item))
        return f"m{item}"

    def converter(items: Sequence[int]) -> Flow[Any]:
        return convert
        yield  # a flow that needs no request

    def when_empty() -> Flow[Any]:
        return None
        yield

    op = PagedOperation(RequestSpec("GET", "/things"), lambda s, r: Page(list(r.json()["items"]), None, r))
    return CheckedListing(op, converter, when_empty)
    yield


async def _walk(runner: SyncRunner | AsyncRunner, flow: Flow[CheckedListing[int, str]]) -> list[tuple[str, bool]]:
    """Each converted item with whether the collector ran while the consumer held it."""
    if isinstance(runner, SyncRunner):
        return [(item, gc.isenabled()) for item in walk(runner, flow)]
    return [(item, gc.isenabled()) async for item in awalk(runner, flow)]


async def test_a_pages_conversion_runs_paused_and_its_consumer_does_not(mode: str) -> None:
    seen: list[bool] = []
    got = await _walk(_runner(mode), _listing(seen))
    assert got == [("m1", True), ("m2", True), ("m3", True)]
    assert seen == [False, False, False]


async def test_a_failing_conversion_resumes_the_collector(mode: str) -> None:
    with pytest.raises(errors.TranslationError, match="item 2"):
        await _walk(_runner(mode), _listing([], fail_on=2))
    assert gc.isenabled()
