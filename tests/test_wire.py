"""Wire objects remember the response they came in (retries_taken on every result)."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from pydantic import ValidationError as PydanticValidationError

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
from billing_milestones._wire import WireCents, WireDecimal, WireIntId, WireModel, WireStrId


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


# -- strict wire types: identity and money are never coerced -------------------------------------------------
class _Strict(WireModel):
    int_id: WireIntId | None = None
    str_id: WireStrId | None = None
    cents: WireCents | None = None
    number: WireDecimal | None = None


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("int_id", True, "must be an integer"),
        ("int_id", False, "must be an integer"),
        ("int_id", "1a", "must be an integer"),
        ("int_id", "-1", "must be an integer"),
        ("int_id", -1, "cannot be negative"),
        ("int_id", Decimal("1.5"), "must be an integer"),
        ("int_id", 2**60, "beyond what a JSON number carries"),
        ("str_id", True, "must be an integer"),
        ("str_id", "../1001", "must be an integer"),
        ("str_id", "١٢", "must be an integer"),  # non-ASCII digits are not an id
        ("cents", True, "must be an integer"),
        ("cents", Decimal("1.0"), "must be an integer"),
        ("cents", "100", "the string"),
        ("cents", 2**53 + 1, "beyond what a JSON number carries"),
        ("number", True, "boolean"),
        ("number", 1.5, "float"),
        ("number", Decimal("12345678901234567.89"), "more digits"),
        ("number", Decimal("NaN"), "more digits"),
    ],
)
def test_strict_wire_types_refuse(field: str, value: object, problem: str) -> None:
    with pytest.raises(PydanticValidationError, match=problem) as info:
        _Strict.model_validate({field: value})
    assert info.value.errors()[0]["loc"] == (field,)


def test_strict_wire_types_accept_exact_values() -> None:
    m = _Strict.model_validate({"int_id": "42", "str_id": 42, "cents": -(2**53), "number": Decimal("1250000.75")})
    assert (m.int_id, m.str_id, m.cents, m.number) == (42, "42", -(2**53), Decimal("1250000.75"))
