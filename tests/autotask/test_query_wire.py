"""Issue 18 point 6: filters written as Autotask JSON are checked like built ones, before any request.

The server drops a filter item whose operator it does not know and answers with everything; a mistyped
operator must therefore never reach it, and neither may a MaxRecords it would refuse.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from billing_milestones.autotask.query import OPERATORS, F, Query, as_query
from billing_milestones.errors import ValidationError

from .scripted import Scripted

NE = {"op": "ne", "field": "status", "value": 3}


def refused(server: Scripted, call: Any, match: str) -> ValidationError:
    with pytest.raises(ValidationError, match=match) as caught:
        call()
    assert server.requests == []  # nothing was sent
    return caught.value


@pytest.mark.parametrize(
    "filter_",
    [
        NE,
        [NE],
        {"filter": [NE]},
        {"Filter": [{"op": "and", "items": [{"op": "exist", "field": "id"}, NE]}]},
    ],
)
def test_an_unknown_operator_is_refused_by_name_with_the_allowed_ones(filter_: Any) -> None:
    server = Scripted()
    with server.client() as client:
        error = refused(server, lambda: list(client.contract_milestones.query(filter_)), r"unknown operator 'ne'")
        assert "did you mean 'noteq'?" in str(error) and error.field == "op" and error.value == "ne"
        assert all(op in str(error) for op in OPERATORS)
        refused(server, lambda: client.contract_milestones.count(filter_), r"unknown operator 'ne'")


def test_the_builder_names_a_near_miss_too() -> None:
    with pytest.raises(ValidationError, match=r"unknown operator 'NotEq' \(did you mean 'noteq'\?\)"):
        F.op("NotEq", "status", 3)
    with pytest.raises(ValidationError, match=r"unknown operator 'between'; expected one of"):
        F.op("between", "id", 1)


@pytest.mark.parametrize("max_records", [0, 501, -1, True, "10"])
def test_max_records_outside_1_to_500_is_refused_by_name(max_records: Any) -> None:
    server = Scripted()
    with server.client() as client:
        for call in (
            lambda: list(client.contract_milestones.query(max_records=max_records)),
            lambda: list(client.contract_milestones.query({"filter": [], "MaxRecords": max_records})),
            lambda: list(client.contract_milestones.query({"maxRecords": max_records})),
        ):
            error = refused(server, call, r"MaxRecords: expected an int 1\.\.500")
            assert error.field == "MaxRecords"


async def test_the_async_client_refuses_before_sending() -> None:
    server = Scripted()
    async with server.async_client() as client:
        with pytest.raises(ValidationError, match="unknown operator 'ne'"):
            async for _ in client.contract_milestones.query([NE]):
                pass
        with pytest.raises(ValidationError, match="MaxRecords"):
            await client.contract_milestones.count({"MaxRecords": 0, "filter": []})
    assert server.requests == []


def test_a_json_query_sends_what_the_builder_would() -> None:
    server = Scripted()
    wire = {
        "filter": [
            {"op": "or", "items": [{"op": "noteq", "field": "status", "value": 3}, {"op": "exist", "field": "id"}]}
        ],
        "maxRecords": 50,
        "IncludeFields": ["title"],
    }
    with server.client() as client:
        assert [m.id for m in client.contract_milestones.query(wire)] == [1, 2]
    built = Query(F.noteq("status", 3) | F.exist("id"), max_records=50, include_fields=["title"]).to_wire()
    assert json.loads(server.requests[0].content) == built


@pytest.mark.parametrize(
    ("wire", "needle"),
    [
        ({"op": "eq", "field": "id", "value": 1, "valeu": 2}, r"unknown keys \['valeu'\]"),
        ({"op": "in", "field": "status", "value": 3}, "takes a list"),
        ({"op": "eq", "field": "status"}, "needs a value"),
        ({"op": "or", "items": []}, "non-empty items"),
        ({"op": "eq", "field": "id", "value": 1, "udf": "yes"}, "udf must be true or false"),
        ({"filter": [NE], "pageSize": 5}, r"unknown key 'pageSize'"),
        ({"filter": [], "MaxRecords": 5, "maxrecords": 6}, "given twice"),
        ({"filter": "id eq 1"}, "list of filter items"),
        ([5], r"filter\[0\]: expected a filter item"),
    ],
)
def test_malformed_json_filters_are_refused_by_name(wire: Any, needle: str) -> None:
    with pytest.raises(ValidationError, match=needle):
        as_query(wire)


def test_exist_with_a_null_value_is_the_plain_exist() -> None:
    assert as_query({"op": "exist", "field": "id", "value": None}) == Query(F.exist("id"))
    assert as_query([{"op": "eq", "field": "id", "value": 1}]) == Query(F.eq("id", 1))
