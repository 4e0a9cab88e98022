"""A ContractMilestones query page read in one step when every record is the usual one.

``ItemsResponse.model_validate`` runs Python for every record (the case-folding of its keys) and for most of its
values (the id, amount and date checks that keep a boolean from reading as id 1 or a rounded amount from
passing): a page of 500 cost several times its ``json.loads``. Almost every record a server sends is exactly
cased and holds each value in its usual type (ids as JSON integers in range, amounts as exact numbers, dates as
ISO text, ``isInitialPayment`` a boolean). :func:`read_items_page` checks that of a page and builds each wire
model from the values as they are, with the one conversion the model makes (dates, by pydantic's own datetime
validator; whole amounts to Decimal). The check is made a page at a time: a page's records share their keys, so
each field is checked across the page as a column (its values' types, then what those leave open: id ranges,
amounts' digits, dates not read before), with no Python step per record or value. A body with anything else
(another casing, an id spelled as text, a float, user-defined fields, an unexpected envelope key, a bad value) is
read by ``ItemsResponse.model_validate`` itself, whole, so every error is the one it always was; an accepted page
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
    """What a record's keys, in their order, hold, and how its wire model is built from its values (taken
    by position, as ``tuple(record.values())`` holds them)."""

    names: tuple[str, ...]
    fields_set: frozenset[str]
    #: (position, kind) of each declared field: what :func:`_columns_pass` checks.
    columns: tuple[tuple[int, int], ...]
    #: The declared attributes set from a value as it stands (dates and userDefinedFields aside), and their
    #: getter; the amounts among them, which the build makes Decimal when whole; the dates, which it reads.
    declared: tuple[str, ...]
    declared_of: Callable[[tuple[Any, ...]], tuple[Any, ...]] | None
    amounts: tuple[tuple[str, int], ...]
    dates: tuple[tuple[str, int], ...]
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


def _layout_of(keys: tuple[Any, ...]) -> _Layout | None:
    """None: a key the model folds (another casing of a declared one), reads a field by (its attribute name)
    or refuses: the model reads the page."""
    names: list[str] = []
    columns: list[tuple[int, int]] = []
    declared: list[int] = []
    amounts: list[tuple[str, int]] = []
    dates: list[tuple[str, int]] = []
    extras: list[int] = []
    for position, key in enumerate(keys):
        slot = _SLOTS.get(key)
        if slot is None:
            if type(key) is not str or key.lower() in _FOLDED or key in _BY_NAME:
                return None
            names.append(key)
            extras.append(position)
            continue
        name, kind = slot
        names.append(name)
        columns.append((position, kind))
        if kind == _DATE:
            dates.append((name, position))
        elif kind != _USER_FIELDS:
            declared.append(position)
            if kind == _AMOUNT:
                amounts.append((name, position))
    return _Layout(
        tuple(names),
        frozenset(names),
        tuple(columns),
        tuple(names[position] for position in declared),
        _getter(declared),
        tuple(amounts),
        tuple(dates),
        tuple(names[position] for position in extras),
        _getter(extras),
    )


_NONE: Final = type(None)
#: The value types each kind takes: null, but for userDefinedFields (a list, maybe empty), and one type, or
#: two for an amount; any other (a float, text for an id, a subclass: a bool is not an id) is the model's.
_TAKES: Final[dict[int, frozenset[type]]] = {
    _ID: frozenset({int, _NONE}),
    _TEXT: frozenset({str, _NONE}),
    _AMOUNT: frozenset({int, Decimal, _NONE}),
    _DATE: frozenset({str, _NONE}),
    _FLAG: frozenset({bool, _NONE}),
    _USER_FIELDS: frozenset({list}),
}


#: Layouts seen (the records of a listing mostly share one); bounded, as keys come from servers.
_LAYOUTS: dict[tuple[Any, ...], _Layout | None] = {}
_MAX_LAYOUTS: Final = 64
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


def _columns_pass(layout: _Layout, columns: list[tuple[Any, ...]]) -> bool:
    """Whether records of ``layout`` (given as their columns: ``columns[position]`` holds one field's values
    across the records) hold only values the model reads as they stand. Checked a column at a time, with no
    Python step per record or value: each column's value types, then what the types leave open (ids and whole
    amounts by their least and greatest, decimal amounts by their texts (:func:`_exact`), date-times by those
    not read before, userDefinedFields empty)."""
    for position, kind in layout.columns:
        column = columns[position]
        present = set(map(type, column))
        if not present <= _TAKES[kind]:
            return False
        if kind in (_TEXT, _FLAG):
            continue
        if kind == _ID:
            found = list(filter(None, column)) if _NONE in present else column  # nulls (and zeros) left out
            if found and (min(found) < 0 or max(found) > MAX_EXACT_INT):
                return False
        elif kind == _AMOUNT:
            if int in present:
                found = column if present == _INT else _of_type(column, int)
                if min(found) < -MAX_EXACT_INT or max(found) > MAX_EXACT_INT:
                    return False
            if Decimal in present and not _exact(column if present == _DECIMAL else _of_type(column, Decimal)):
                return False
        elif kind == _DATE:
            texts = set(column).difference(_DATETIMES)
            texts.discard(None)
            for text in texts:
                try:
                    datetime_of(text)
                except ValueError:
                    return False
        elif any(column):  # userDefinedFields: only an empty list is read here
            return False
    return True


def _of_type(column: tuple[Any, ...], kind: type) -> list[Any]:
    """The values of ``column`` whose type is exactly ``kind``."""
    return list(compress(column, map(operator.is_, map(type, column), repeat(kind))))


_INT: Final = {int}
_DECIMAL: Final = {Decimal}


def _exact(amounts: Sequence[Decimal]) -> bool:
    """Whether every amount is finite and one a double holds exactly: short (see :func:`_short`), mostly."""
    if not all(map(Decimal.is_finite, amounts)):
        return False
    texts = list(map(str, amounts))
    return (max(map(len, texts)) <= 15 and "E" not in "".join(texts)) or all(map(_held, amounts))


def _held(amount: Decimal) -> bool:
    """A finite amount a double holds exactly."""
    return _short(amount) or double_exact(amount)


def _columns(records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The values of records sharing their keys (in order), a column (one field's values) at a time."""
    return list(zip(*map(dict.values, records), strict=True))


def _page_layouts(items: list[Any]) -> list[_Layout] | None:
    """Each record's layout, in order, when every record is one the model reads as it stands (None
    otherwise). A page's records mostly share one layout: they are checked together, a column at a time
    (:func:`_columns_pass`); the records of a page of several layouts (a sparse answer), a layout at a time."""
    if set(map(type, items)) != _DICT:
        return None if items else []
    first = tuple(items[0])
    # Every record's keys are the first's, in order, when the keys of all, one record after the other, are the
    # first's repeated (a dict holds a key once, so no record can hold more of them than the first, nor fewer).
    if list(chain.from_iterable(items)) == list(first) * len(items):
        layout = _layout(first)
        if layout is None or (first and not _columns_pass(layout, _columns(items))):
            return None
        return [layout] * len(items)
    keys = list(map(tuple, items))
    for these in set(keys):
        layout = _layout(these)
        if layout is None:
            return None
        if these and not _columns_pass(layout, _columns(list(compress(items, map(operator.eq, keys, repeat(these)))))):
            return None
    return list(map(_layout, keys))  # type: ignore[arg-type]


def _checked(data: Any) -> _Layout | None:
    """The layout of a record the model reads as it stands (exactly cased keys, each value of its usual type),
    or None when the model must read it."""
    layouts = _page_layouts([data])
    return None if layouts is None else layouts[0]


def _built(layout: _Layout, data: dict[str, Any]) -> ContractMilestone:
    """The wire model of a record its layout vouched for (see :func:`_page_layouts`)."""
    row = tuple(data.values())
    values = dict(_DEFAULTS)
    if layout.declared_of is not None:
        values.update(zip(layout.declared, layout.declared_of(row), strict=True))
    for name, position in layout.amounts:
        if type(row[position]) is int:
            values[name] = Decimal(row[position])  # as the model's Decimal validator converts a whole JSON number
    for name, position in layout.dates:
        if row[position] is not None:
            values[name] = datetime_of(row[position])
    values["user_defined_fields"] = []  # a fresh empty list for each record (null or absent alike)
    extra = {} if layout.extras_of is None else dict(zip(layout.extras, layout.extras_of(row), strict=True))
    record = _new(ContractMilestone)
    _set_dict(record, values)
    _set_fields_set(record, set(layout.fields_set))
    _set_extra(record, extra)
    _set_private(record, None)
    return record


def _record(data: Any) -> ContractMilestone | None:
    """One record as the model reads it, or None when the model must read it."""
    layout = _checked(data)
    return None if layout is None else _built(layout, data)


def contract_records(items: list[Any], contract: int) -> bool:
    """Whether every record is one :func:`_record` reads, with its id, of ``contract``: the common view reads
    those from their JSON as they stand (``_read.listing_reader``), without a wire model for each."""
    if not items:
        return True
    return (
        _page_layouts(items) is not None
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
        layouts = _page_layouts(items)
        if layouts is not None:
            records = list(map(_built, layouts, items))
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
