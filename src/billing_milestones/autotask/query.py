"""A typed builder for Autotask's query filter language.

Autotask refuses a malformed filter with an HTTP 500 and a terse message, after a round trip that counts
against the hourly threshold. Building filters here catches the shape errors first::

    from billing_milestones.autotask.query import F, Query

    q = Query(F.eq("contractID", 7) & (F.gte("dateDue", date(2026, 1, 1)) | F.exist("billingCodeID")))
    q.to_wire()  # {"filter": [{"op": "and", "items": [...]}], "MaxRecords": 500}

Top-level items are ANDed by Autotask; ``&`` and ``|`` build explicit ``and``/``or`` groups, nestable.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, TypeAlias

from ..errors import ValidationError

__all__ = [
    "COMPARISON_OPS",
    "MAX_OR_CONDITIONS",
    "MAX_RECORDS",
    "OPERATORS",
    "Condition",
    "F",
    "FilterLike",
    "Group",
    "Query",
    "as_query",
]

Scalar: TypeAlias = str | int | bool | Decimal | dt.date | dt.datetime
#: The value-taking scalar operators.
COMPARISON_OPS: Final = frozenset({"eq", "noteq", "gt", "gte", "lt", "lte", "beginsWith", "endsWith", "contains"})
_NO_VALUE_OPS: Final = frozenset({"exist", "notExist"})
_LIST_OPS: Final = frozenset({"in", "notIn"})
_STRING_OPS: Final = frozenset({"beginsWith", "endsWith", "contains"})
#: All 13 operators of the filter language.
OPERATORS: Final = COMPARISON_OPS | _NO_VALUE_OPS | _LIST_OPS
_GROUP_OPS: Final = frozenset({"and", "or"})
#: Autotask pages hold at most 500 records; MaxRecords accepts 1..500.
MAX_RECORDS: Final = 500
#: SOAP documents 500 OR conditions per query; REST is assumed to match ([U], see docs/platforms/autotask.md).
MAX_OR_CONDITIONS: Final = 500


#: Spellings other clients and query languages use, and the operator Autotask calls it.
_ALIASES: Final = {
    "ne": "noteq",
    "neq": "noteq",
    "!=": "noteq",
    "<>": "noteq",
    "not_eq": "noteq",
    "=": "eq",
    "==": "eq",
    "ge": "gte",
    ">=": "gte",
    "le": "lte",
    "<=": "lte",
    ">": "gt",
    "<": "lt",
    "like": "contains",
    "startswith": "beginsWith",
    "begins_with": "beginsWith",
    "endswith": "endsWith",
    "ends_with": "endsWith",
    "exists": "exist",
    "notexists": "notExist",
    "not_exist": "notExist",
    "nin": "notIn",
    "not_in": "notIn",
}


def _did_you_mean(op: object) -> str:
    if not isinstance(op, str):
        return ""
    by_case = {o.lower(): o for o in OPERATORS}
    guess = by_case.get(op.lower()) or _ALIASES.get(op.lower())
    return f" (did you mean {guess!r}?)" if guess else ""


def _wire_scalar(op: str, field_name: str, value: object) -> Any:
    if isinstance(value, float):
        raise ValidationError(
            f"filter {field_name} {op}: float {value!r} refused; pass a Decimal or str so no binary rounding "
            "enters a comparison",
            field=field_name,
            value=value,
        )
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bool | int | str | Decimal):
        return value
    raise ValidationError(
        f"filter {field_name} {op}: value must be str, int, bool, Decimal, date or datetime, got "
        f"{type(value).__name__} {value!r}",
        field=field_name,
        value=value,
    )


class _Node(ABC):
    """Shared ``&``/``|`` composition of conditions and groups."""

    def __and__(self, other: object) -> Group:
        return _combine("and", self, other)

    def __or__(self, other: object) -> Group:
        return _combine("or", self, other)

    @abstractmethod
    def to_wire(self) -> dict[str, Any]:
        """The filter item as Autotask's JSON."""


def _combine(op: str, left: _Node, right: object) -> Group:
    if not isinstance(right, Condition | Group):
        raise ValidationError(
            f"filter: cannot combine with {type(right).__name__}; use F.<op>(...) conditions", value=right
        )
    items: list[Condition | Group] = []
    for node in (left, right):
        if isinstance(node, Group) and node.op == op:
            items.extend(node.items)  # flatten a & b & c into one group
        else:
            assert isinstance(node, Condition | Group)
            items.append(node)
    return Group(op, tuple(items))


@dataclass(frozen=True, eq=True)
class Condition(_Node):
    """One ``{"op", "field", "value", "udf"}`` filter item, validated when built."""

    op: str
    field: str
    value: Any = None
    udf: bool = False
    _has_value: bool = dataclasses.field(default=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.op not in OPERATORS:
            raise ValidationError(
                f"filter: unknown operator {self.op!r}{_did_you_mean(self.op)}; expected one of {sorted(OPERATORS)} "
                "(Autotask would drop the item and match everything)",
                field="op",
                value=self.op,
            )
        if not isinstance(self.field, str) or not self.field.strip():
            raise ValidationError(f"filter {self.op}: field must be a non-empty str", field="field", value=self.field)
        if self.op in _NO_VALUE_OPS:
            if self._has_value or self.value is not None:
                raise ValidationError(
                    f"filter {self.field} {self.op}: {self.op} takes no value, got {self.value!r}",
                    field=self.field,
                    value=self.value,
                )
            return
        if self.op in _LIST_OPS:
            if isinstance(self.value, str | bytes) or not isinstance(self.value, Sequence | set | frozenset):
                raise ValidationError(
                    f"filter {self.field} {self.op}: {self.op} takes a list of values, got {self.value!r}",
                    field=self.field,
                    value=self.value,
                )
            if len(self.value) == 0:
                raise ValidationError(
                    f"filter {self.field} {self.op}: {self.op} needs at least one value", field=self.field, value=[]
                )
            object.__setattr__(self, "value", tuple(_wire_scalar(self.op, self.field, v) for v in self.value))
            return
        if self.value is None:
            raise ValidationError(
                f"filter {self.field} {self.op}: {self.op} needs a value (use notExist to match a missing value)",
                field=self.field,
            )
        if isinstance(self.value, list | tuple | set | frozenset):
            raise ValidationError(
                f"filter {self.field} {self.op}: {self.op} takes one value, got a list; use in/notIn",
                field=self.field,
                value=self.value,
            )
        if self.op in _STRING_OPS and not isinstance(self.value, str):
            raise ValidationError(
                f"filter {self.field} {self.op}: {self.op} compares text, got {type(self.value).__name__}",
                field=self.field,
                value=self.value,
            )
        object.__setattr__(self, "value", _wire_scalar(self.op, self.field, self.value))

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": self.op, "field": self.field}
        if self.op in _LIST_OPS:
            out["value"] = list(self.value)
        elif self.op not in _NO_VALUE_OPS:
            out["value"] = self.value
        if self.udf:
            out["udf"] = True
        return out


@dataclass(frozen=True, eq=True)
class Group(_Node):
    """An explicit ``and``/``or`` group of conditions and groups."""

    op: str
    items: tuple[Condition | Group, ...]

    def __post_init__(self) -> None:
        if self.op not in _GROUP_OPS:
            raise ValidationError(f"filter: group operator must be 'and' or 'or', got {self.op!r}", value=self.op)
        if not self.items:
            raise ValidationError(f"filter: an {self.op} group needs at least one item", value=[])
        for item in self.items:
            if not isinstance(item, Condition | Group):
                raise ValidationError(
                    f"filter: group items must be conditions or groups, got {type(item).__name__}", value=item
                )

    def to_wire(self) -> dict[str, Any]:
        return {"op": self.op, "items": [i.to_wire() for i in self.items]}


#: Built with F, or written as Autotask's JSON (one filter item, a list of them, or a whole QueryModel body).
FilterLike: TypeAlias = (
    "Query | Condition | Group | Mapping[str, Any] | Iterable[Condition | Group | Mapping[str, Any]] | None"
)


class F:
    """Constructors for every operator: ``F.eq("contractID", 7)``, ``F.in_("status", [1, 2])``."""

    @staticmethod
    def eq(field: str, value: Scalar, *, udf: bool = False) -> Condition:
        return Condition("eq", field, value, udf)

    @staticmethod
    def noteq(field: str, value: Scalar, *, udf: bool = False) -> Condition:
        return Condition("noteq", field, value, udf)

    @staticmethod
    def gt(field: str, value: Scalar, *, udf: bool = False) -> Condition:
        return Condition("gt", field, value, udf)

    @staticmethod
    def gte(field: str, value: Scalar, *, udf: bool = False) -> Condition:
        return Condition("gte", field, value, udf)

    @staticmethod
    def lt(field: str, value: Scalar, *, udf: bool = False) -> Condition:
        return Condition("lt", field, value, udf)

    @staticmethod
    def lte(field: str, value: Scalar, *, udf: bool = False) -> Condition:
        return Condition("lte", field, value, udf)

    @staticmethod
    def begins_with(field: str, value: str, *, udf: bool = False) -> Condition:
        return Condition("beginsWith", field, value, udf)

    @staticmethod
    def ends_with(field: str, value: str, *, udf: bool = False) -> Condition:
        return Condition("endsWith", field, value, udf)

    @staticmethod
    def contains(field: str, value: str, *, udf: bool = False) -> Condition:
        return Condition("contains", field, value, udf)

    @staticmethod
    def exist(field: str, *, udf: bool = False) -> Condition:
        return Condition("exist", field, None, udf)

    @staticmethod
    def not_exist(field: str, *, udf: bool = False) -> Condition:
        return Condition("notExist", field, None, udf)

    @staticmethod
    def in_(field: str, values: Sequence[Scalar], *, udf: bool = False) -> Condition:
        return Condition("in", field, values, udf)

    @staticmethod
    def not_in(field: str, values: Sequence[Scalar], *, udf: bool = False) -> Condition:
        return Condition("notIn", field, values, udf)

    @staticmethod
    def op(op: str, field: str, *value: Any, udf: bool = False) -> Condition:
        """Any operator by its wire name; ``exist`` with a value is refused like the typed forms."""
        if len(value) > 1:
            raise ValidationError(f"filter {field} {op}: pass one value (a list for in/notIn)", field=field)
        return Condition(op, field, value[0] if value else None, udf, _has_value=bool(value))

    @staticmethod
    def and_(*items: Condition | Group) -> Group:
        return Group("and", tuple(items))

    @staticmethod
    def or_(*items: Condition | Group) -> Group:
        return Group("or", tuple(items))

    @staticmethod
    def all() -> Condition:
        """Autotask's "match everything" filter: ``id`` exists."""
        return Condition("exist", "id")


def _or_conditions(node: Condition | Group, inside_or: bool = False) -> int:
    if isinstance(node, Condition):
        return 1 if inside_or else 0
    within = inside_or or node.op == "or"
    return sum(_or_conditions(i, within) for i in node.items)


@dataclass(frozen=True, init=False)
class Query:
    """A whole query body: filter items (ANDed), page size and the fields to return."""

    filter: tuple[Condition | Group, ...] = ()
    max_records: int | None = None
    include_fields: tuple[str, ...] | None = None

    def __init__(
        self,
        *filter: Condition | Group,
        max_records: int | None = None,
        include_fields: Iterable[str] | None = None,
    ) -> None:
        items = tuple(filter) or (F.all(),)
        for item in items:
            if not isinstance(item, Condition | Group):
                raise ValidationError(
                    f"query: filter items must be conditions or groups, got {type(item).__name__}", value=item
                )
        if max_records is not None and (
            isinstance(max_records, bool) or not isinstance(max_records, int) or not 1 <= max_records <= MAX_RECORDS
        ):
            raise ValidationError(
                f"MaxRecords: expected an int 1..{MAX_RECORDS}, got {max_records!r}",
                field="MaxRecords",
                value=max_records,
            )
        fields: tuple[str, ...] | None = None
        if include_fields is not None:
            if isinstance(include_fields, str):
                raise ValidationError(
                    "IncludeFields: pass a list of field names, not one str",
                    field="IncludeFields",
                    value=include_fields,
                )
            fields = tuple(include_fields)
            if not fields or not all(isinstance(f, str) and f.strip() for f in fields):
                raise ValidationError(
                    "IncludeFields: expected a non-empty list of field names", field="IncludeFields", value=fields
                )
            if not any(f.lower() == "id" for f in fields):
                fields = ("id", *fields)  # paging past 500 needs the id (Autotask docs)
        ors = sum(_or_conditions(i) for i in items)
        if ors > MAX_OR_CONDITIONS:
            raise ValidationError(
                f"filter: {ors} conditions inside or-groups; Autotask allows at most {MAX_OR_CONDITIONS} per query "
                "(split the query, or use an in-list)",
                field="filter",
                value=ors,
            )
        object.__setattr__(self, "filter", items)
        object.__setattr__(self, "max_records", max_records)
        object.__setattr__(self, "include_fields", fields)

    def to_wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {"filter": [i.to_wire() for i in self.filter]}
        body["MaxRecords"] = self.max_records or MAX_RECORDS
        if self.include_fields is not None:
            body["IncludeFields"] = list(self.include_fields)
        return body

    def and_also(self, *items: Condition | Group) -> Query:
        """The same query with more ANDed items (the view adds ``contractID eq``)."""
        base = [] if self.filter == (F.all(),) else list(self.filter)
        return Query(*base, *items, max_records=self.max_records, include_fields=self.include_fields)


def as_query(value: FilterLike) -> Query:
    """Accept a Query, one condition or group, a list of them, their JSON form, or None (everything)."""
    from ._query_wire import filter_from_wire, query_from_wire

    if value is None:
        return Query()
    if isinstance(value, Query):
        return value
    if isinstance(value, Condition | Group):
        return Query(value)
    if isinstance(value, Mapping):
        return Query(filter_from_wire(value)) if "op" in value else query_from_wire(value)
    if isinstance(value, str | bytes):
        raise ValidationError(
            f"query: expected conditions built with F (or a Query), got {type(value).__name__}", value=value
        )
    return Query(*(filter_from_wire(item, f"filter[{i}]") for i, item in enumerate(value)))
