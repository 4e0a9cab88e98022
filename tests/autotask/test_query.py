"""The filter builder: every operator, nesting, limits, and refusals before anything is sent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest

from billing_milestones.autotask.query import OPERATORS, F, Query, as_query
from billing_milestones.errors import ValidationError


def test_all_thirteen_operators_serialise() -> None:
    built = [
        F.eq("contractID", 7),
        F.noteq("status", 3),
        F.gt("amount", Decimal("10.50")),
        F.gte("dateDue", dt.date(2026, 1, 1)),
        F.lt("id", 100),
        F.lte("dateDue", dt.datetime(2026, 2, 1, 12, 0)),
        F.begins_with("title", "Des"),
        F.ends_with("title", "off"),
        F.contains("description", "bm:"),
        F.exist("billingCodeID"),
        F.not_exist("description"),
        F.in_("status", [1, 2]),
        F.not_in("id", [5, 6]),
    ]
    wire = [c.to_wire() for c in built]
    assert {w["op"] for w in wire} == set(OPERATORS) and len(OPERATORS) == 13
    assert wire[0] == {"op": "eq", "field": "contractID", "value": 7}
    assert wire[2]["value"] == Decimal("10.50")
    assert wire[3]["value"] == "2026-01-01"
    assert wire[5]["value"] == "2026-02-01T12:00:00"
    assert wire[9] == {"op": "exist", "field": "billingCodeID"}
    assert wire[11] == {"op": "in", "field": "status", "value": [1, 2]}


def test_composition_builds_nested_groups() -> None:
    q = Query(F.eq("contractID", 7) & (F.eq("status", 1) | F.eq("status", 2) | F.not_exist("description")))
    assert q.to_wire() == {
        "filter": [
            {
                "op": "and",
                "items": [
                    {"op": "eq", "field": "contractID", "value": 7},
                    {
                        "op": "or",
                        "items": [
                            {"op": "eq", "field": "status", "value": 1},
                            {"op": "eq", "field": "status", "value": 2},
                            {"op": "notExist", "field": "description"},
                        ],
                    },
                ],
            }
        ],
        "MaxRecords": 500,
    }


def test_udf_flag_and_options() -> None:
    q = Query(F.eq("Region", "EMEA", udf=True), max_records=50, include_fields=["title", "amount"])
    assert q.to_wire() == {
        "filter": [{"op": "eq", "field": "Region", "value": "EMEA", "udf": True}],
        "MaxRecords": 50,
        "IncludeFields": ["id", "title", "amount"],
    }


def test_empty_query_matches_everything() -> None:
    assert Query().to_wire()["filter"] == [{"op": "exist", "field": "id"}]
    assert as_query(None) == Query()
    assert as_query([F.eq("id", 1), F.eq("status", 2)]).to_wire()["filter"][1]["field"] == "status"
    assert as_query(F.eq("id", 1)).and_also(F.eq("status", 1)).to_wire()["filter"] == [
        {"op": "eq", "field": "id", "value": 1},
        {"op": "eq", "field": "status", "value": 1},
    ]
    assert Query().and_also(F.eq("id", 1)).to_wire()["filter"] == [{"op": "eq", "field": "id", "value": 1}]


@pytest.mark.parametrize(
    ("build", "needle"),
    [
        (lambda: F.op("exist", "id", 5), "takes no value"),
        (lambda: F.op("notExist", "id", None), "takes no value"),
        (lambda: F.op("in", "status", 1), "list"),
        (lambda: F.op("notIn", "status", "1,2"), "list"),
        (lambda: F.in_("status", []), "at least one"),
        (lambda: F.op("between", "id", 1), "unknown operator"),
        (lambda: F.op("eq", "id"), "needs a value"),
        (lambda: F.eq("id", [1, 2]), "use in/notIn"),  # type: ignore[arg-type]
        (lambda: F.contains("amount", 5), "compares text"),  # type: ignore[arg-type]
        (lambda: F.eq("amount", 1.5), "float"),  # type: ignore[arg-type]
        (lambda: F.eq("", 1), "field"),
        (lambda: Query(max_records=0), "MaxRecords"),
        (lambda: Query(max_records=501), "MaxRecords"),
        (lambda: Query(include_fields="title"), "IncludeFields"),
        (lambda: Query(include_fields=[]), "IncludeFields"),
        (lambda: F.or_(), "at least one"),
        (lambda: F.eq("id", 1) & "x", "cannot combine"),
        (lambda: as_query({"op": "eq"}), "field must be a non-empty str"),
        (lambda: as_query("contractID eq 7"), "expected conditions"),  # type: ignore[arg-type]
    ],
)
def test_bad_shapes_refused(build: Callable[[], object], needle: str) -> None:
    with pytest.raises(ValidationError, match=needle):
        build()


def test_or_condition_limit() -> None:
    ok = F.or_(*(F.eq("id", i) for i in range(500)))
    Query(ok)
    too_many = F.or_(*(F.eq("id", i) for i in range(500)), F.and_(F.eq("status", 1), F.eq("status", 2)))
    with pytest.raises(ValidationError, match="502 conditions inside or-groups"):
        Query(too_many)


def test_and_groups_flatten() -> None:
    g = F.eq("a", 1) & F.eq("b", 2) & F.eq("c", 3)
    assert g.op == "and" and len(g.items) == 3
    mixed = (F.eq("a", 1) | F.eq("b", 2)) & F.eq("c", 3)
    assert mixed.op == "and" and mixed.items[0].op == "or"
