"""An envelope validated straight from the response bytes reads exactly as the Decimal reading of the same body:
the same objects, unknown fields kept (a non-integer number among them still an exact Decimal), an error body
still refused whatever else it holds, and a missing or wrong-typed field still a typed error naming it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from billing_milestones import errors
from billing_milestones._http import APIResponse, dumps, loads
from billing_milestones.kantata import KantataClient
from billing_milestones.kantata._envelopes import _from_bytes, parse_envelope
from billing_milestones.kantata.wire import Envelope

from .test_envelopes import _ref, envelope, ms


def response(body: Any) -> APIResponse:
    request = httpx.Request("GET", "https://api.mavenlink.com/api/v1/billing_milestones/1")
    content = body.encode() if isinstance(body, str) else dumps(body).encode()
    return APIResponse(httpx.Response(200, content=content, request=request), 0, "kantata")


def full_body() -> dict[str, Any]:
    body = envelope([ms("1", external_reference_ids=["5"], brand_new={"a": [1, "x", None, True]}), ms("2")])
    body["external_references"] = {"5": _ref("5", subject="1", locked=False)}
    body["users"] = {"9": {"id": "9", "name": "Ada", "n": 12345678901234567890}}
    return body


def test_the_bytes_reading_equals_the_decimal_reading() -> None:
    body = full_body()
    fast = _from_bytes(dumps(body).encode())
    assert fast is not None  # the fast reading is the one taken for an ordinary body
    slow = Envelope.model_validate(loads(dumps(body)))
    assert fast == slow
    assert fast.model_dump() == slow.model_dump() and fast.model_extra == slow.model_extra
    assert fast.billing_milestones["1"].raw() == slow.billing_milestones["1"].raw()


def _sent_at(body: dict[str, Any], where: str) -> dict[str, Any]:
    """The object of ``body`` that ``where`` names."""
    found: dict[str, Any] = {
        "milestone": body["billing_milestones"]["1"],
        "envelope": body,
        "meta": body["meta"],
        "result": body["results"][0],
        "reference": body["external_references"]["5"],
        "nested": body["users"]["9"],
    }[where]
    return found


def _kept_at(got: Envelope, where: str) -> dict[str, Any]:
    """The unknown fields the client kept for the object ``where`` names."""
    extra = got.model_extra or {}
    if where == "nested":
        nested: dict[str, Any] = extra["users"]["9"]
        return nested
    holder = {
        "milestone": got.billing_milestones["1"],
        "envelope": got,
        "meta": got.meta,
        "result": got.results[0],
        "reference": got.external_references["5"],
    }[where]
    assert holder is not None and holder.model_extra is not None
    return holder.model_extra


@pytest.mark.parametrize("where", ["milestone", "envelope", "meta", "result", "reference", "nested"])
def test_a_non_integer_number_among_unknown_fields_stays_an_exact_decimal(where: str) -> None:
    body = full_body()
    _sent_at(body, where)["rate"] = Decimal("0.10")
    assert _from_bytes(dumps(body).encode()) is None  # a float would be read: the Decimal reading is taken
    kept = _kept_at(parse_envelope(response(body)), where)["rate"]
    assert type(kept) is Decimal and str(kept) == "0.10"


@pytest.mark.parametrize("key", ["errors", "error_message"])
def test_an_error_body_that_also_holds_an_envelope_is_refused(key: str) -> None:
    body = envelope([ms("1")])
    body[key] = [{"type": "system", "message": "Something went wrong"}] if key == "errors" else "went wrong"
    with pytest.raises(errors.APIStatusError, match="Kantata error body"):
        parse_envelope(response(body))
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=dumps(body).encode()))
    with (
        KantataClient("t", http_client=httpx.Client(transport=transport)) as client,
        pytest.raises(errors.APIStatusError) as info,
    ):
        client.billing_milestones.get("1")
    assert info.value.status_code == 200


BAD_FIELDS = [
    ("amount_in_cents", "100"),
    ("amount_in_cents", Decimal("1.5")),
    ("amount_in_cents", True),
    ("id", True),
    ("workspace_id", None),
    ("title", 7),
    ("date_to_invoice", 20270101),
    ("created_at", 1700000000),
    ("external_reference_ids", "5"),
]


@pytest.mark.parametrize(("field", "value"), BAD_FIELDS)
def test_a_wrong_typed_field_is_still_a_typed_error_naming_it(field: str, value: object) -> None:
    body = envelope([ms("1", **{field: value})])
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=dumps(body).encode()))
    with (
        KantataClient("t", http_client=httpx.Client(transport=transport)) as client,
        pytest.raises(errors.APIResponseValidationError, match=field),
    ):
        client.billing_milestones.get("1")


@pytest.mark.parametrize("field", ["id", "title", "amount_in_cents", "workspace_id"])
def test_a_missing_milestone_field_is_still_a_typed_error_naming_it(field: str) -> None:
    body = envelope([ms("1")])
    del body["billing_milestones"]["1"][field]
    with pytest.raises(pydantic_error(), match=field):
        parse_envelope(response(body))


@pytest.mark.parametrize("field", ["count", "results"])
def test_a_missing_envelope_field_is_still_an_error_naming_it(field: str) -> None:
    body = envelope([ms("1")])
    del body[field]
    with pytest.raises(pydantic_error(), match=field):
        parse_envelope(response(body))


def pydantic_error() -> type[Exception]:
    import pydantic

    return pydantic.ValidationError


@pytest.mark.parametrize(
    "text",
    ['{"count": 1, "results": [], "x": "\\ud800"}', "\ufeff" + '{"count": 0, "results": []}', "[1, 2]", "", "nul"],
)
def test_bodies_only_the_decimal_reading_takes_are_read_by_it(text: str) -> None:
    got = response(text)
    if text.startswith("["):
        with pytest.raises(errors.ValidationError, match="JSON object envelope"):
            parse_envelope(got)
    elif text in ("", "nul"):
        with pytest.raises(ValueError):
            parse_envelope(got)
    else:
        assert _from_bytes(text.encode()) is None
        assert parse_envelope(got) == Envelope.model_validate(loads(text.encode()))
