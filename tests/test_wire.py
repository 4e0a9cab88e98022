"""Wire objects remember the response they came in (retries_taken on every result)."""

from __future__ import annotations

import httpx
import pytest

from billing_milestones._http import (
    AsyncRunner,
    ClientCore,
    Operation,
    Page,
    PagedOperation,
    RequestSpec,
    ResponseInfo,
    SyncRunner,
)
from billing_milestones._wire import WireModel


class Thing(WireModel):
    id: str


def flaky() -> httpx.MockTransport:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return httpx.Response(503, json={"message": "busy"})
        return httpx.Response(
            200, json={"items": [{"id": "1", "new": True}, {"id": "2"}]}, headers={"x-request-id": "r-9"}
        )

    return httpx.MockTransport(handler)


CORE = ClientCore(platform="test", base_url=httpx.URL("https://api.example.test"), credentials=dict)
OP = Operation(RequestSpec("GET", "/things"), lambda r: [Thing.model_validate(i) for i in r.json()["items"]])
PAGED = PagedOperation(
    RequestSpec("GET", "/things"),
    lambda spec, r: Page([Thing.model_validate(i) for i in r.json()["items"]], None, r),
)
EXPECTED = ResponseInfo(platform="test", status_code=200, request_id="r-9", retries_taken=1)


def test_sync_results_carry_their_response_info() -> None:
    runner = SyncRunner(CORE, httpx.Client(transport=flaky()), sleep=lambda _s: None)
    things = runner.execute(OP)
    assert [t.response_info for t in things] == [EXPECTED, EXPECTED]
    assert things[0].extra_fields == {"new": True}
    paged = list(SyncRunner(CORE, httpx.Client(transport=flaky()), sleep=lambda _s: None).iterate(PAGED))
    assert all(t.response_info == EXPECTED for t in paged)


@pytest.mark.asyncio
async def test_async_results_carry_their_response_info() -> None:
    async def no_sleep(_s: float) -> None:
        return None

    runner = AsyncRunner(CORE, httpx.AsyncClient(transport=flaky()), sleep=no_sleep)
    things = await runner.execute(OP)
    assert [t.response_info for t in things] == [EXPECTED, EXPECTED]


def test_objects_you_build_have_no_response_info() -> None:
    assert Thing(id="x").response_info is None
    assert "response_info" not in Thing(id="x").raw()
