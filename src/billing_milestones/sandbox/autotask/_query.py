"""The Autotask emulator's query language: filter items checked and evaluated as the server does.

Kept apart from the routes so they stay readable; the rules are the vendor's (13 operators,
``and``/``or`` groups nestable, field names without regard to case, UDFs by name) and a refusal is the
documented HTTP 500 with ``{"errors": [...]}``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

__all__ = [
    "OPERATORS",
    "Refusal",
    "comparable",
    "evaluate",
    "field_value",
    "parse_datetime",
    "select",
    "validate_filter",
]

#: The 13 operators of the filter language.
OPERATORS: Final = frozenset(
    {"eq", "noteq", "gt", "gte", "lt", "lte", "beginsWith", "endsWith", "contains", "exist", "notExist", "in", "notIn"}
)
_DATETIME_FIELDS: Final = frozenset({"datedue", "createdate"})


class Refusal(Exception):
    """A request Autotask refuses: becomes the documented error response."""

    def __init__(self, status: int, *messages: str) -> None:
        super().__init__(*messages)
        self.status = status
        self.messages = list(messages)


def select(record: Mapping[str, Any], order: Sequence[str], include: Iterable[str] | None) -> dict[str, Any]:
    out = dict(zip(order, map(record.get, order), strict=True))  # the fields in wire order, None where missing
    if include is not None:
        wanted = {f.lower() for f in include} | {"id"}
        out = {k: v for k, v in out.items() if k.lower() in wanted}
    return out


def validate_filter(item: Any, fields: Iterable[str], entity: str) -> None:
    """A filter item or group as the server checks it; Refusal (HTTP 500) names what is wrong."""
    if not isinstance(item, dict):
        raise Refusal(500, "Each filter item must be an object.")
    op = item.get("op")
    if op in ("and", "or"):
        items = item.get("items")
        if not isinstance(items, list) or not items:
            raise Refusal(500, f"The {op} grouping requires items.")
        for sub in items:
            validate_filter(sub, fields, entity)
        return
    if op not in OPERATORS:
        raise Refusal(500, f"Invalid filter operator {op!r}.")
    field = item.get("field")
    if not isinstance(field, str) or not field:
        raise Refusal(500, "A filter item requires a field.")
    if not item.get("udf") and field.lower() not in {f.lower() for f in fields}:
        raise Refusal(500, f"Unable to find {field} in the {entity} entity.")
    if op in ("in", "notIn") and not isinstance(item.get("value"), list):
        raise Refusal(500, f"The {op} operator requires an array value.")
    if op not in ("exist", "notExist", "in", "notIn") and "value" not in item:
        raise Refusal(500, f"The {op} operator requires a value.")


def field_value(item: Mapping[str, Any], record: Mapping[str, Any]) -> Any:
    name = str(item["field"]).lower()
    if item.get("udf"):
        for udf in record.get("userDefinedFields") or []:
            if str(udf.get("name", "")).lower() == name:
                return udf.get("value")
        return None
    for key, value in record.items():
        if key.lower() == name:
            return value
    return None


def parse_datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def comparable(field: str, value: Any) -> Any:
    """A field's value as the filters compare it (dates parsed, numbers as Decimal, text lower-cased)."""
    if value is None:
        return None
    if field in _DATETIME_FIELDS:
        return parse_datetime(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return Decimal(value) if field in ("id", "amount", "status", "contractid") else value.lower()
        except ArithmeticError:
            return value.lower()
    return value


def evaluate(item: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    op = item["op"]
    if op == "and":
        return all(evaluate(i, record) for i in item["items"])
    if op == "or":
        return any(evaluate(i, record) for i in item["items"])
    field = str(item["field"]).lower()
    actual = comparable(field, field_value(item, record))
    if op == "exist":
        return actual is not None and actual != ""
    if op == "notExist":
        return bool(actual is None or actual == "")
    if op in ("in", "notIn"):
        values = [comparable(field, v) for v in item["value"]]
        found = actual is not None and actual in values
        return found if op == "in" else not found
    wanted = comparable(field, item.get("value"))
    if op == "eq":
        return bool(actual == wanted)
    if op == "noteq":
        return bool(actual != wanted)
    if actual is None or wanted is None:
        return False
    if op in ("beginsWith", "endsWith", "contains"):
        text, part = str(actual).lower(), str(wanted).lower()
        return (
            text.startswith(part) if op == "beginsWith" else text.endswith(part) if op == "endsWith" else part in text
        )
    try:
        if op == "gt":
            return bool(actual > wanted)
        if op == "gte":
            return bool(actual >= wanted)
        if op == "lt":
            return bool(actual < wanted)
        return bool(actual <= wanted)
    except TypeError:
        raise Refusal(500, f"Cannot compare {item['field']} with {item.get('value')!r}.") from None
