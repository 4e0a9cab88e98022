"""Filters and query bodies written as Autotask's own JSON, read into the typed builder (and so checked).

Users coming from other Autotask clients write ``{"op": "ne", "field": "status", "value": 3}``. The server
drops a filter item whose operator it does not know and answers with everything, so a typo silently widens a
query (a sync would then see milestones of other contracts). Parsing the JSON into :class:`Condition` and
:class:`Group` gives it every check the builder has, before any request: the unknown operator is named with the
allowed ones, and ``MaxRecords`` outside 1..500 is refused by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ..errors import ValidationError
from .query import Condition, F, Group, Query

__all__ = ["filter_from_wire", "query_from_wire"]

_ITEM_KEYS: Final = frozenset({"op", "field", "value", "udf"})
_GROUP_KEYS: Final = frozenset({"op", "items"})
_BODY_KEYS: Final = {"filter": "filter", "maxrecords": "MaxRecords", "includefields": "IncludeFields"}


def filter_from_wire(item: object, where: str = "filter") -> Condition | Group:
    """One filter item or ``and``/``or`` group as JSON -> the checked builder node."""
    if isinstance(item, Condition | Group):
        return item
    if not isinstance(item, Mapping):
        raise ValidationError(
            f"{where}: expected a filter item (an object with op and field), got {type(item).__name__} {item!r}",
            field="filter",
            value=item,
        )
    op = item.get("op")
    if op in ("and", "or"):
        _only(item, _GROUP_KEYS, where)
        items = item.get("items")
        if not isinstance(items, list | tuple) or not items:
            raise ValidationError(f"{where}: an {op} group needs a non-empty items list", field="filter", value=items)
        return Group(op, tuple(filter_from_wire(sub, f"{where}.items[{i}]") for i, sub in enumerate(items)))
    if "items" in item:
        # The vendor's own QueryModel example sends ``"items": []`` on a plain condition: harmless when empty.
        if item["items"] not in ([], ()):
            raise ValidationError(
                f"{where}: only an and/or group has items; a {op!r} condition cannot", field="filter", value=item
            )
        item = {k: v for k, v in item.items() if k != "items"}
    _only(item, _ITEM_KEYS, where)
    if not isinstance(op, str):
        raise ValidationError(f"{where}: op must be an operator name, got {op!r}", field="op", value=op)
    udf = item.get("udf", False)
    if not isinstance(udf, bool):
        raise ValidationError(f"{where}: udf must be true or false, got {udf!r}", field="udf", value=udf)
    field: Any = item.get("field")  # checked by Condition, like the value
    if "value" in item and not (item["value"] is None and op in ("exist", "notExist")):
        return F.op(op, field, item["value"], udf=udf)
    return F.op(op, field, udf=udf)


def query_from_wire(body: Mapping[str, Any]) -> Query:
    """A whole QueryModel body (``filter``, ``MaxRecords``, ``IncludeFields``, any casing) -> a checked Query."""
    given: dict[str, Any] = {}
    for key, value in body.items():
        name = _BODY_KEYS.get(key.lower()) if isinstance(key, str) else None
        if name is None:
            raise ValidationError(
                f"query: unknown key {key!r}; a QueryModel has {sorted(_BODY_KEYS.values())}", field=str(key)
            )
        if name in given:
            raise ValidationError(f"query: {name} is given twice (in two casings)", field=name)
        given[name] = value
    items = given.get("filter") or []
    if not isinstance(items, list | tuple):
        raise ValidationError("filter: expected a list of filter items", field="filter", value=items)
    nodes = [filter_from_wire(item, f"filter[{i}]") for i, item in enumerate(items)]
    include = given.get("IncludeFields")
    if include in ([], ()):
        include = None  # an empty list means every field, as in the vendor's example
    return Query(*nodes, max_records=given.get("MaxRecords"), include_fields=include)


def _only(item: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(str(k) for k in item if k not in allowed)
    if unknown:
        raise ValidationError(
            f"{where}: unknown keys {unknown} in a filter item (allowed: {sorted(allowed)})",
            field="filter",
            value=unknown,
        )
