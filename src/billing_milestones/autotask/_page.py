"""A ContractMilestones query page read in one step when every record is the usual one.

``ItemsResponse.model_validate`` runs Python for every record (the case-folding of its keys) and for most of its
values (the id, amount and date checks that keep a boolean from reading as id 1 or a rounded amount from
passing): a page of 500 cost several times its ``json.loads``. Almost every record a server sends is exactly
cased and holds each value in its usual type (ids as JSON integers in range, amounts as exact numbers, dates as
ISO text, ``isInitialPayment`` a boolean). :func:`read_items_page` checks that of each record with a type test
per value and builds the wire model from the values as they are, with the one conversion the model makes
(dates, by pydantic's own datetime validator; whole amounts to Decimal). A body with anything else (another
casing, an id spelled as text, a float, user-defined fields, an unexpected envelope key, a bad value) is read
by ``ItemsResponse.model_validate`` itself, whole, so every error is the one it always was; an accepted page
equals that reading field for field (``tests/autotask/test_read_page.py`` compares both over generated pages).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
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
    and the fields set they make."""

    names: tuple[str, ...]
    kinds: tuple[int, ...]
    fields_set: frozenset[str]


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
    return _Layout(tuple(names), tuple(kinds), frozenset(names))


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


def _checked(data: Any) -> _Layout | None:
    """The layout of a record the model reads as it stands (exactly cased keys, each value of its usual type),
    or None when the model must read it."""
    if type(data) is not dict:
        return None
    keys = tuple(data)
    layout: _Layout | None = _LAYOUTS.get(keys, _UNSEEN)
    if layout is _UNSEEN:
        if len(_LAYOUTS) >= _MAX_LAYOUTS:
            _LAYOUTS.clear()
        layout = _LAYOUTS[keys] = _layout_of(keys)
    if layout is None:
        return None
    for kind, value in zip(layout.kinds, data.values(), strict=True):
        if value is None:
            if kind == _USER_FIELDS:  # the one field null does not stand for (a list, maybe empty)
                return None
            continue
        cls = type(value)
        if kind == _ID:
            if cls is not int or not 0 <= value <= MAX_EXACT_INT:
                return None
        elif kind == _TEXT:
            if cls is not str:
                return None
        elif kind == _AMOUNT:
            if cls is int:
                if not -MAX_EXACT_INT <= value <= MAX_EXACT_INT:
                    return None
            elif cls is not Decimal or not value.is_finite() or not (_short(value) or double_exact(value)):
                return None
        elif kind == _DATE:
            if cls is not str:
                return None
            if value not in _DATETIMES:
                try:
                    datetime_of(value)
                except ValueError:
                    return None
        elif kind == _FLAG:
            if cls is not bool:
                return None
        elif kind == _USER_FIELDS and (cls is not list or value):  # only an empty list is read here
            return None
    return layout


def _record(data: Any) -> ContractMilestone | None:
    """One record as the model reads it, or None when the model must read it."""
    layout = _checked(data)
    if layout is None:
        return None
    values = dict(_DEFAULTS)
    values["user_defined_fields"] = []  # a fresh empty list for each record (null or absent alike)
    extra: dict[str, Any] = {}
    for name, kind, value in zip(layout.names, layout.kinds, data.values(), strict=True):
        if kind == _EXTRA:
            extra[name] = value
        elif value is not None and kind != _USER_FIELDS:
            if kind == _AMOUNT:
                if type(value) is int:
                    value = Decimal(value)  # as the model's Decimal validator converts a whole JSON number
            elif kind == _DATE:
                value = datetime_of(value)
            values[name] = value
    record = _new(ContractMilestone)
    _set_dict(record, values)
    _set_fields_set(record, set(layout.fields_set))
    _set_extra(record, extra)
    _set_private(record, None)
    return record


def contract_records(items: list[Any], contract: int) -> bool:
    """Whether every record is one :func:`_record` reads, with its id, of ``contract``: the common view reads
    those from their JSON as they stand (``_read.listing_reader``), without a wire model for each."""
    for data in items:
        if _checked(data) is None or data.get("id") is None or data.get("contractID") != contract:
            return False
    return True


#: Every declared field's attribute, in declared order, as a record without the key holds it.
_DEFAULTS: Final[dict[str, Any]] = dict.fromkeys(ContractMilestone.model_fields)
_UNSEEN: Final[Any] = object()


def read_items_page(body: dict[str, Any]) -> ItemsResponse:
    """``ItemsResponse.model_validate(body)``, in one step when every record is a usual one."""
    items = body.get("items")
    if body.keys() == _ENVELOPE and type(items) is list:
        records = []
        for data in items:
            record = _record(data)
            if record is None:
                break
            records.append(record)
        else:
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
