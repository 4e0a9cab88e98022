"""Fingerprints: a short hash of a milestone's fields, stored in every link to tell later whether a side changed.

The text hashed can never change (every stored link would read as changed on both sides, a conflict, after
an upgrade): it is ``json.dumps({field: plain(value)}, sort_keys=True)``, SHA-256, the first 32 hex digits.
A worker computes three for each milestone it links (150 for a pair of 50 creates), so the usual values are
written here directly, as that encoder writes them: field names in sorted order, ``", "`` and ``": "``
between, text through the encoder's own escaping (``ensure_ascii``), a money amount as the two-key object
``plain`` makes. A value of any other type (a subclass too) falls back to the encoder itself, whole; tests
compare both ways with the formula on generated values.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable
from decimal import Decimal
from json.encoder import encode_basestring_ascii
from typing import Any, Final

from ..model import MilestoneStatus, Trigger
from ..money import Money

__all__ = ["fingerprint", "plain"]

#: How the encoder writes a text with ``ensure_ascii`` (its C function where it has one).
_text: Final[Callable[[str], str]] = encode_basestring_ascii
#: ``json.dumps(data, sort_keys=True)`` builds this encoder (every other option at its default) on each call.
_ENCODER: Final = json.JSONEncoder(sort_keys=True)


def plain(value: Any) -> Any:
    """A field's value as JSON holds it: an amount as its normalised digits and currency, a number as its
    normalised digits, a trigger as ``kind:ref``, a date in ISO form, anything else as it is."""
    if isinstance(value, Money):
        return {"amount": str(value.amount.normalize()), "currency": value.currency}
    if isinstance(value, Decimal):
        return str(value.normalize())
    if isinstance(value, Trigger):
        return f"{value.kind.value}:{value.ref or ''}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _json_of(value: Any) -> str | None:
    """The encoder's text of ``plain(value)`` for a value of exactly one of the usual types; None otherwise."""
    kind = type(value)
    if kind is str or kind is MilestoneStatus:  # a status is a str: written as its text
        return _text(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is Money:
        return f'{{"amount": {_text(str(value.amount.normalize()))}, "currency": {_text(value.currency)}}}'
    if kind is Decimal:
        return _text(str(value.normalize()))
    if kind is dt.date:
        return _text(value.isoformat())
    if kind is Trigger:
        return _text(f"{value.kind.value}:{value.ref or ''}")
    return None


#: A tuple of field names -> its names sorted without repeats, each with its key text (``"name": ``).
_ORDERS: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {}


def _order(fields: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    order = _ORDERS.get(fields)
    if order is None:
        order = tuple((name, f"{_text(name)}: ") for name in sorted(set(fields)))
        if len(_ORDERS) < 64:  # a handful of field sets exist (one per platform, the source's)
            _ORDERS[fields] = order
    return order


def fingerprint(milestone: Any, fields: Iterable[str]) -> str:
    """A hash of the given fields of a milestone (or its row), to tell later whether a side changed."""
    names = fields if isinstance(fields, tuple) else tuple(fields)
    parts = []
    for name, key in _order(names):
        written = _json_of(getattr(milestone, name))
        if written is None:  # an unusual value: the encoder writes the whole object
            text = _ENCODER.encode({name: plain(getattr(milestone, name)) for name in names})
            break
        parts.append(key + written)
    else:
        text = "{" + ", ".join(parts) + "}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]
