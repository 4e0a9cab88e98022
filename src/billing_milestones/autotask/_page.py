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
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

from pydantic import TypeAdapter, ValidationError

from .._http._json import MAX_EXACT_INT, double_exact
from ..model import _new, _set_dict, _set_extra, _set_fields_set, _set_private
from .wire import _DATE_TEXT, ContractMilestone, ItemsResponse, PageDetails

__all__ = ["read_items_page"]

#: pydantic's own datetime validator, the one the model runs after its ISO-text check (its core, without the
#: adapter's per-call wrapper).
_DATETIME: Final = TypeAdapter(dt.datetime).validator.validate_python


def _id(value: Any) -> Any:
    return value if type(value) is int and 0 <= value <= MAX_EXACT_INT else _UNUSUAL


def _text(value: Any) -> Any:
    return value if type(value) is str else _UNUSUAL


def _flag(value: Any) -> Any:
    return value if type(value) is bool else _UNUSUAL


def _amount(value: Any) -> Any:
    kind = type(value)
    if kind is Decimal:
        return value if _short(value) or double_exact(value) else _UNUSUAL
    if kind is int and -MAX_EXACT_INT <= value <= MAX_EXACT_INT:
        return Decimal(value)  # as the model's Decimal validator converts a whole JSON number
    return _UNUSUAL


def _short(value: Decimal) -> bool:
    """At most 15 significant digits in positional notation: a double holds every such number exactly (DBL_DIG is
    15), so ``double_exact`` is true without its float round trip. Conservative: leading zeros, the sign and the
    point count as digits here, and exponent notation (very small or large numbers) is left to ``double_exact``."""
    text = str(value)
    return len(text) <= 15 and "E" not in text


def _date_time(value: Any) -> Any:
    if type(value) is not str or not _DATE_TEXT.fullmatch(value):
        return _UNUSUAL
    try:
        return _DATETIME(value)
    except ValueError:  # pydantic's ValidationError: the model names it
        return _UNUSUAL


def _no_user_fields(value: Any) -> Any:
    return [] if type(value) is list and not value else _UNUSUAL


#: Returned by a check for a value the one-step reading does not take (the model reads the page).
_UNUSUAL: Final[Any] = object()
_CHECKS: Final[dict[str, Callable[[Any], Any]]] = {
    "id": _id,
    "contract_id": _id,
    "title": _text,
    "description": _text,
    "amount": _amount,
    "internal_currency_amount": _amount,
    "date_due": _date_time,
    "status": _id,
    "is_initial_payment": _flag,
    "billing_code_id": _id,
    "create_date": _date_time,
    "creator_resource_id": _id,
    "organizational_level_association_id": _id,
    "user_defined_fields": _no_user_fields,
}
#: Wire key -> (attribute, its check), for every declared field.
_SLOTS: Final = {(info.alias or name): (name, _CHECKS[name]) for name, info in ContractMilestone.model_fields.items()}
_FOLDED: Final = frozenset(key.lower() for key in _SLOTS)
assert set(_CHECKS) == set(ContractMilestone.model_fields), "every ContractMilestone field needs its check"
_ENVELOPE: Final = frozenset({"items", "pageDetails"})


def _record(data: Any) -> ContractMilestone | None:
    """One record as the model reads it, or None when the model must read it."""
    if type(data) is not dict:
        return None
    values: dict[str, Any] = {
        "id": None,
        "contract_id": None,
        "title": None,
        "description": None,
        "amount": None,
        "internal_currency_amount": None,
        "date_due": None,
        "status": None,
        "is_initial_payment": None,
        "billing_code_id": None,
        "create_date": None,
        "creator_resource_id": None,
        "organizational_level_association_id": None,
        "user_defined_fields": [],
    }
    present = set()
    extra: dict[str, Any] = {}
    for key, value in data.items():
        slot = _SLOTS.get(key)
        if slot is None:
            if type(key) is not str or key.lower() in _FOLDED:  # another casing: the model folds it (or refuses)
                return None
            extra[key] = value
            present.add(key)
            continue
        name, check = slot
        if value is not None:
            value = check(value)
            if value is _UNUSUAL:
                return None
        elif name == "user_defined_fields":  # the one field null does not stand for (a list, maybe empty)
            return None
        values[name] = value
        present.add(name)
    record = _new(ContractMilestone)
    _set_dict(record, values)
    _set_fields_set(record, present)
    _set_extra(record, extra)
    _set_private(record, None)
    return record


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
