"""A ContractMilestones query page read in one step when every record is the usual one.

``ItemsResponse.model_validate`` runs Python for every record (the case-folding of its keys) and for most of its
values (the id, amount and date checks that keep a boolean from reading as id 1 or a rounded amount from
passing): a page of 500 cost several times its ``json.loads``. Almost every record a server sends is exactly
cased and holds each value in its usual type (ids as JSON integers in range, amounts as exact numbers, dates as
ISO text, ``isInitialPayment`` a boolean). :func:`read_items_page` checks that of a page and builds each wire
model from the values as they are, with the one conversion the model makes (dates, by pydantic's own datetime
validator; whole amounts to Decimal). The check is made a page at a time: a page's records share their keys
and, mostly, their values' types (which are null), and what those say is decided once (:class:`_Plan`); what
is left (id ranges, amounts' digits, dates not read before) is checked across the page a group of values at a
time, with no Python step per record or value. A body with anything else (another
casing, an id spelled as text, a float, user-defined fields, an unexpected envelope key, a bad value) is read
by ``ItemsResponse.model_validate`` itself, whole, so every error is the one it always was; an accepted page
equals that reading field for field (``tests/autotask/test_read_page.py`` compares both over generated pages).
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Sequence
from decimal import Decimal
from itertools import chain, compress, repeat
from typing import Any, Final, NamedTuple

from pydantic import TypeAdapter, ValidationError

from .._http._json import MAX_EXACT_INT, double_exact
from ..model import _new, _set_dict, _set_extra, _set_fields_set, _set_private
from .wire import _DATE_TEXT, ContractMilestone, ItemsResponse, PageDetails

__all__ = ["Record", "contract_records", "datetime_of", "read_items_page"]

#: A query record as the JSON had it: a view page's item when :func:`contract_records` vouched for the page.
Record = dict[str, Any]
#: pydantic's own datetime validator, the one the model runs after its ISO-text check (its core, without the
#: adapter's per-call wrapper).
_DATETIME: Final = TypeAdapter(dt.datetime).validator.validate_python


def _short(value: Decimal) -> bool:
    """At most 15 significant digits in positional notation: a double holds every such number exactly (DBL_DIG is
    15), so ``double_exact`` is true without its float round trip. Conservative: leading zeros, the sign and the
    point count as digits here, and exponent notation (very small or large numbers) is left to ``double_exact``."""
    text = str(value)
    return len(text) <= 15 and "E" not in text


# What each declared field holds; checked in place below, in order of how many fields hold it.
_ID, _TEXT, _AMOUNT, _DATE, _FLAG, _USER_FIELDS, _EXTRA = range(7)
_KINDS: Final = {
    "id": _ID,
    "contract_id": _ID,
    "title": _TEXT,
    "description": _TEXT,
    "amount": _AMOUNT,
    "internal_currency_amount": _AMOUNT,
    "date_due": _DATE,
    "status": _ID,
    "is_initial_payment": _FLAG,
    "billing_code_id": _ID,
    "create_date": _DATE,
    "creator_resource_id": _ID,
    "organizational_level_association_id": _ID,
    "user_defined_fields": _USER_FIELDS,
}
assert set(_KINDS) == set(ContractMilestone.model_fields), "every ContractMilestone field needs its kind"
#: Wire key -> (attribute, kind), for every declared field.
_SLOTS: Final = {(info.alias or name): (name, _KINDS[name]) for name, info in ContractMilestone.model_fields.items()}
_FOLDED: Final = frozenset(key.lower() for key in _SLOTS)
#: Attribute names the model also reads a field by (``populate_by_name``) where they are not its wire key:
#: a record keyed so is left to the model.
_BY_NAME: Final = frozenset(ContractMilestone.model_fields) - frozenset(_SLOTS)
_ENVELOPE: Final = frozenset({"items", "pageDetails"})


class _Layout(NamedTuple):
    """What a record's keys, in their order, hold: each one's attribute (an unknown key's own name) and kind,
    the fields set they make, and the plans of the value types seen with them (see :class:`_Plan`)."""

    names: tuple[str, ...]
    kinds: tuple[int, ...]
    fields_set: frozenset[str]
    plans: dict[tuple[type, ...], _Plan | None]


class _Plan(NamedTuple):
    """How to check and read a record of one layout whose values are of one type each (the value types say
    most of what the checks ask): what is left to check of the values, each group taken out of the record's
    values by one getter (None: no value of the group), and where the build puts them.

    Deciding this once per layout and value types, not per value, is what makes a usual page's check a few
    calls a record: its records share one layout and, mostly, their value types."""

    fields_set: frozenset[str]
    ids: Callable[[tuple[Any, ...]], tuple[int, ...]] | None  # JSON integers: in 0..2**53
    wholes: Callable[[tuple[Any, ...]], tuple[int, ...]] | None  # whole amounts: in -2**53..2**53
    exacts: Callable[[tuple[Any, ...]], tuple[Decimal, ...]] | None  # decimal amounts: finite, a double's
    dates: Callable[[tuple[Any, ...]], tuple[str, ...]] | None  # date-time texts the model reads
    lists: Callable[[tuple[Any, ...]], tuple[list[Any], ...]] | None  # userDefinedFields: empty only
    #: The build: the declared attributes set from a value as it stands, and their getter.
    declared: tuple[str, ...]
    declared_of: Callable[[tuple[Any, ...]], tuple[Any, ...]] | None
    #: (attribute, position) of the values the build converts: whole amounts to Decimal, texts to datetimes.
    converted: tuple[tuple[str, int, int], ...]
    #: The unknown keys, kept as extra fields, and their getter.
    extras: tuple[str, ...]
    extras_of: Callable[[tuple[Any, ...]], tuple[Any, ...]] | None


def _getter(positions: list[int]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]] | None:
    """The values at ``positions`` of a record's values, always as a tuple (None: no positions)."""
    if not positions:
        return None
    if len(positions) == 1:  # a slice: one value, still as a tuple
        return operator.itemgetter(slice(positions[0], positions[0] + 1))
    return operator.itemgetter(*positions)


#: The value types each kind takes (null aside, which every kind but userDefinedFields takes); a value of any
#: other type, or an id, text, date or flag of a subclass (a bool is not an id), is the model's to read.
_TYPES: Final[dict[int, frozenset[type]]] = {
    _ID: frozenset({int}),
    _TEXT: frozenset({str}),
    _AMOUNT: frozenset({int, Decimal}),
    _DATE: frozenset({str}),
    _FLAG: frozenset({bool}),
    _USER_FIELDS: frozenset({list}),
}


def _plan_of(layout: _Layout, types: tuple[type, ...]) -> _Plan | None:
    """None: a value of a type its field does not read as it stands (or a null userDefinedFields)."""
    groups: dict[tuple[int, type], list[int]] = {}
    declared: list[int] = []
    converted: list[tuple[str, int, int]] = []
    extras: list[int] = []
    for position, (name, kind, cls) in enumerate(zip(layout.names, layout.kinds, types, strict=True)):
        if kind == _EXTRA:
            extras.append(position)
            continue
        if cls is type(None):
            if kind == _USER_FIELDS:  # the one field null does not stand for (a list, maybe empty)
                return None
            continue
        if cls not in _TYPES[kind]:
            return None
        groups.setdefault((kind, cls), []).append(position)
        if kind == _DATE or (kind == _AMOUNT and cls is int):
            converted.append((name, position, kind))
        elif kind != _USER_FIELDS:
            declared.append(position)
    return _Plan(
        layout.fields_set,
        _getter(groups.get((_ID, int), [])),
        _getter(groups.get((_AMOUNT, int), [])),
        _getter(groups.get((_AMOUNT, Decimal), [])),
        _getter(groups.get((_DATE, str), [])),
        _getter(groups.get((_USER_FIELDS, list), [])),
        tuple(layout.names[position] for position in declared),
        _getter(declared),
        tuple(converted),
        tuple(layout.names[position] for position in extras),
        _getter(extras),
    )


def _layout_of(keys: tuple[Any, ...]) -> _Layout | None:
    """None: a key the model folds (another casing of a declared one), reads a field by (its attribute name)
    or refuses: the model reads the page."""
    names, kinds = [], []
    for key in keys:
        slot = _SLOTS.get(key)
        if slot is None:
            if type(key) is not str or key.lower() in _FOLDED or key in _BY_NAME:
                return None
            slot = (key, _EXTRA)
        names.append(slot[0])
        kinds.append(slot[1])
    return _Layout(tuple(names), tuple(kinds), frozenset(names), {})


#: Layouts seen (the records of a listing mostly share one); bounded, as keys come from servers. The plans of a
#: layout are bounded alike.
_LAYOUTS: dict[tuple[Any, ...], _Layout | None] = {}
_MAX_LAYOUTS: Final = 64
_MAX_PLANS: Final = 64
#: Date-time texts read, and the datetime pydantic's validator made of each: a listing's dates mostly repeat (the
#: records created in one run, a few due dates), and a datetime is immutable, so one serves every record that
#: spells it so. Bounded, as texts come from servers.
_DATETIMES: dict[str, dt.datetime] = {}
_MAX_DATETIMES: Final = 4096


def datetime_of(text: str) -> dt.datetime:
    """The wire model's datetime of ``text``; ValueError when the model refuses it (and then names it)."""
    found = _DATETIMES.get(text)
    if found is None:
        if not _DATE_TEXT.fullmatch(text):
            raise ValueError(f"not ISO 8601 date-time text: {text!r}")
        found = _DATETIME(text)  # pydantic's ValidationError is a ValueError
        if len(_DATETIMES) >= _MAX_DATETIMES:
            _DATETIMES.clear()
        _DATETIMES[text] = found
    return found


def _layout(keys: tuple[Any, ...]) -> _Layout | None:
    """The layout of a record's keys (made once, remembered)."""
    layout: _Layout | None = _LAYOUTS.get(keys, _UNSEEN)
    if layout is _UNSEEN:
        if len(_LAYOUTS) >= _MAX_LAYOUTS:
            _LAYOUTS.clear()
        layout = _LAYOUTS[keys] = _layout_of(keys)
    return layout


def _plan(layout: _Layout, types: tuple[type, ...]) -> _Plan | None:
    """The plan of a layout's records with values of ``types`` (made once, remembered)."""
    plan: _Plan | None = layout.plans.get(types, _UNSEEN)
    if plan is _UNSEEN:
        if len(layout.plans) >= _MAX_PLANS:
            layout.plans.clear()
        plan = layout.plans[types] = _plan_of(layout, types)
    return plan


def _passes(plan: _Plan, rows: Sequence[tuple[Any, ...]]) -> bool:
    """Whether the values of ``rows`` (records of the plan's layout and value types) are each one the model
    reads as it stands, checked a group of values at a time across all the rows: ids and whole amounts by
    their least and greatest, decimal amounts by their texts' lengths (:func:`_short`), date-times by the ones
    not read before."""
    if plan.ids is not None:
        found = list(chain.from_iterable(map(plan.ids, rows)))
        if min(found) < 0 or max(found) > MAX_EXACT_INT:
            return False
    if plan.wholes is not None:
        found = list(chain.from_iterable(map(plan.wholes, rows)))
        if min(found) < -MAX_EXACT_INT or max(found) > MAX_EXACT_INT:
            return False
    if plan.exacts is not None:
        amounts = list(chain.from_iterable(map(plan.exacts, rows)))
        if not all(map(Decimal.is_finite, amounts)):
            return False
        texts = list(map(str, amounts))
        if (max(map(len, texts)) > 15 or "E" in "".join(texts)) and not all(map(_held, amounts)):
            return False
    if plan.dates is not None:
        for text in set(chain.from_iterable(map(plan.dates, rows))).difference(_DATETIMES):
            try:
                datetime_of(text)
            except ValueError:
                return False
    return plan.lists is None or not any(chain.from_iterable(map(plan.lists, rows)))  # only an empty list


def _held(amount: Decimal) -> bool:
    """A finite amount a double holds exactly."""
    return _short(amount) or double_exact(amount)


def _checked(data: Any) -> _Plan | None:
    """The plan of a record the model reads as it stands (exactly cased keys, each value of its usual type),
    or None when the model must read it."""
    if type(data) is not dict:
        return None
    layout = _layout(tuple(data))
    if layout is None:
        return None
    values = tuple(data.values())
    plan = _plan(layout, tuple(map(type, values)))
    return plan if plan is not None and _passes(plan, (values,)) else None


def _page_plans(items: list[Any]) -> tuple[list[_Plan], list[tuple[Any, ...]]] | None:
    """Each record's plan and values, in order, when every record is one the model reads as it stands (None
    otherwise). A page's records mostly share one layout and a few sets of value types (which of them are
    null): those are checked a set at a time (:func:`_passes`), with no Python step per record."""
    if set(map(type, items)) != _DICT:
        return None if items else ([], [])
    rows = list(map(tuple, map(dict.values, items)))
    layouts = set(map(tuple, items))
    layout = _layout(layouts.pop()) if len(layouts) == 1 else None
    types = list(map(tuple, map(map, repeat(type), rows)))
    distinct = set(types)
    if layout is None or len(distinct) > _MAX_PLANS:  # several layouts (or none we read): record by record
        plans = list(map(_checked, items))
        return None if plans.count(None) else (plans, rows)  # type: ignore[return-value]
    by_types: dict[tuple[type, ...], _Plan] = {}
    for these in distinct:
        plan = _plan(layout, these)
        if plan is None:
            return None
        group = rows if len(distinct) == 1 else list(compress(rows, map(operator.eq, types, repeat(these))))
        if not _passes(plan, group):
            return None
        by_types[these] = plan
    if len(by_types) == 1:
        return list(by_types.values()) * len(rows), rows
    return list(map(by_types.__getitem__, types)), rows


def _built(plan: _Plan, row: tuple[Any, ...]) -> ContractMilestone:
    """The wire model of a record's values that its plan vouched for."""
    values = dict(_DEFAULTS)
    if plan.declared_of is not None:
        values.update(zip(plan.declared, plan.declared_of(row), strict=True))
    for name, position, kind in plan.converted:
        if kind == _DATE:
            values[name] = datetime_of(row[position])
        else:
            values[name] = Decimal(row[position])  # as the model's Decimal validator converts a whole JSON number
    values["user_defined_fields"] = []  # a fresh empty list for each record (null or absent alike)
    record = _new(ContractMilestone)
    _set_dict(record, values)
    _set_fields_set(record, set(plan.fields_set))
    _set_extra(record, {} if plan.extras_of is None else dict(zip(plan.extras, plan.extras_of(row), strict=True)))
    _set_private(record, None)
    return record


def _record(data: Any) -> ContractMilestone | None:
    """One record as the model reads it, or None when the model must read it."""
    plan = _checked(data)
    return None if plan is None else _built(plan, tuple(data.values()))


def contract_records(items: list[Any], contract: int) -> bool:
    """Whether every record is one :func:`_record` reads, with its id, of ``contract``: the common view reads
    those from their JSON as they stand (``_read.listing_reader``), without a wire model for each."""
    if not items:
        return True
    return (
        _page_plans(items) is not None
        and None not in map(dict.get, items, repeat("id"))
        and set(map(dict.get, items, repeat("contractID"))) == {contract}
    )


#: Every declared field's attribute, in declared order, as a record without the key holds it.
_DEFAULTS: Final[dict[str, Any]] = dict.fromkeys(ContractMilestone.model_fields)
_UNSEEN: Final[Any] = object()
_DICT: Final = {dict}


def read_items_page(body: dict[str, Any]) -> ItemsResponse:
    """``ItemsResponse.model_validate(body)``, in one step when every record is a usual one."""
    items = body.get("items")
    if body.keys() == _ENVELOPE and type(items) is list:
        checked = _page_plans(items)
        if checked is not None:
            records = list(map(_built, *checked))
            try:
                details = PageDetails.model_validate(body["pageDetails"])
            except ValidationError:  # the envelope's reading names it by its place in the body
                return ItemsResponse.model_validate(body)
            page = _new(ItemsResponse)
            _set_dict(page, {"items": records, "page_details": details})
            _set_fields_set(page, {"items", "page_details"})
            _set_extra(page, {})
            _set_private(page, None)
            return page
    return ItemsResponse.model_validate(body)
