"""Response bodies as the emulators send them: by orjson when it is installed and the body holds only plain
values, else by the standard library's C encoder; the same bytes either way.

The clients' :func:`~billing_milestones._http._json.dumps` walks every value in Python first (to refuse, by
place, what a server would round); an emulator answers with what it holds, and at scale that walk was most
of a response's CPU. Here only what JSON has no type for reaches Python: each Decimal becomes one marker
string, then its own digits where the text is cut at the markers, and a date its ISO form. The bytes are those
``dumps`` writes (tests/sandbox/test_encode.py compares them).

A float is refused, as ``dumps`` refuses one: money and percentages travel as Decimal, and an emulator's state
holds none (requests are read with Decimals, the seeding helpers convert), so a float in a response is a value
put there from outside, which a test should hear about rather than see rounded to a double's digits. The C
encoder writes floats itself, so the check reads its text: outside strings it writes only numbers, ``true``,
``false`` and ``null``, and only a float's digits have a point or an exponent.

orjson writes text, ints, booleans, None, lists and dicts exactly as that encoder does here (every code
point, tested), and hands Decimals and dates to a ``default``, which gives back a Decimal's digits as a
``Fragment`` it writes as they are (no marker to cut out) and a date's ISO text; but it writes floats itself
(NaN as ``null``), and other types (enums, UUIDs, subclasses) its own way. So it is given a body only when
every value in it is of exactly one of those types (``_plain``, checked a container at a time in C): a body
holding anything else, a float first of all, takes the standard path and its refusals.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from decimal import Decimal
from typing import Any, AnyStr, Final

__all__ = ["encode", "encode_bytes"]

#: A JSON string as the encoder writes it (escapes included), for text holding an escaped quote.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
#: What a plain value may be (see ``_plain``); containers besides.
_LEAVES: Final = frozenset({str, int, bool, type(None), Decimal, dt.date, dt.datetime})
#: Containers nested deeper than this are left to the standard encoder (orjson stops at 255 levels).
_DEPTH: Final = 200

_orjson: Any
try:
    import orjson as _orjson
except ImportError:  # in-process sandboxes need nothing beyond the SDK: the standard encoder writes the same bytes
    _orjson = None


def encode(data: Any) -> str:
    """Compact JSON text of ``data``; each Decimal written as a JSON number with exactly its digits."""
    while True:
        # Each Decimal is written as this call's marker (a string), in the order the encoder meets them, so
        # the n-th marker in the text is the n-th number: the text is cut at the markers (at memchr speed, no
        # pattern) and the numbers put between the pieces. A string of the data that spells the marker would
        # make one piece too many: then again with another token (never in practice: 64 random bits).
        text, numbers, marker = _encoded(data, secrets.token_hex(8))
        spliced = _spliced(text, numbers, marker)
        if spliced is not None:
            return spliced


def encode_bytes(data: Any) -> bytes:
    """``encode(data)`` as the UTF-8 bytes a response carries. When orjson is installed (the ``sandbox``
    extra) and ``data`` holds only values it writes as the standard encoder does, orjson writes them, several
    times faster; anything else (a float, an int past 64 bits, a key that is not text, a non-finite Decimal,
    a lone surrogate...) takes the standard path, which answers or refuses as it always has."""
    if _orjson is not None and _plain(data):
        try:
            text: bytes = _orjson.dumps(data, default=_fast_default, option=_orjson.OPT_PASSTHROUGH_DATETIME)
        except _orjson.JSONEncodeError:
            pass
        else:
            return text
    return encode(data).encode()


def _spliced(text: AnyStr, numbers: list[AnyStr], marker: AnyStr) -> AnyStr | None:
    """``text`` with its n-th ``marker`` replaced by the n-th number; None when the markers are not as many
    as the numbers (a string of the data spelled the marker)."""
    if not numbers:
        return text
    pieces = text.split(marker)
    if len(pieces) != len(numbers) + 1:
        return None
    joined = [text[:0]] * (2 * len(numbers) + 1)
    joined[::2] = pieces
    joined[1::2] = numbers
    return text[:0].join(joined)


def _plain(data: Any) -> bool:
    """Whether ``data`` is a dict or list holding, at any depth, only dicts, lists and values of exactly the
    types orjson writes as ``encode`` does (text, ints, booleans, None) or hands to ``default`` (Decimal, date,
    datetime). A container of such values only is passed in one check in C; only the others are walked.
    Deeper than orjson goes (or a cycle) is not plain."""
    if type(data) is not dict and type(data) is not list:
        return False
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        container, depth = stack.pop()
        values = container.values() if type(container) is dict else container
        if _LEAVES.issuperset(map(type, values)):
            continue
        if depth >= _DEPTH:
            return False
        for value in values:
            kind = type(value)
            if kind is dict or kind is list:
                stack.append((value, depth + 1))
            elif kind not in _LEAVES:
                return False
    return True


def _fast_default(obj: Any) -> Any:
    """What orjson hands back from plain data (so no float can be in it): a Decimal is written as its own
    digits, in place (an ``orjson.Fragment``: JSON text put in as it is), a date or datetime as its ISO text."""
    if type(obj) is Decimal:
        if not obj.is_finite():
            raise ValueError(obj)  # the standard path words the refusal
        digits = str(obj)
        return _orjson.Fragment(format(obj, "f") if "E" in digits else digits)
    if type(obj) is dt.datetime or type(obj) is dt.date:
        return obj.isoformat()
    raise TypeError(type(obj).__name__)  # pragma: no cover - plain data holds nothing else


def _encoded(data: Any, token: str) -> tuple[str, list[str], str]:
    """The text with each Decimal as ``"@token@"``, the Decimals' digits in order, and that marker."""
    numbers: list[str] = []
    written = f"@{token}@"

    def default(obj: Any) -> Any:
        if isinstance(obj, Decimal):
            if not obj.is_finite():
                raise ValueError(f"cannot send the non-finite number {obj} as JSON")
            # str() is the plain digits unless it chose an exponent; then format "f" writes them out.
            digits = str(obj)
            numbers.append(format(obj, "f") if "E" in digits else digits)
            return written
        if isinstance(obj, dt.datetime | dt.date):
            return obj.isoformat()
        raise TypeError(f"an emulator cannot send {type(obj).__name__} as JSON")

    text = json.dumps(data, default=default, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    if _holds_float(text):
        raise TypeError(
            f"an emulator refuses to send the float at {_float_place(data)}; money and percentages travel as Decimal"
        )
    return text, numbers, f'"{written}"'


def _holds_float(text: str) -> bool:
    """Whether compact JSON text (Decimals still markers, so strings) holds a float: a point or an exponent
    (``repr`` writes ``1e+16``, ``1e-07``) outside every string. Each occurrence is outside a string when an
    even number of quotes stands before it; an escaped quote makes strings be read the careful way."""
    if '\\"' in text:
        outside = _STRING.sub('""', text)
        return "." in outside or "+" in outside or "e-" in outside
    # Outside strings a "+" is only ever an exponent's; "." and "+" are found at memchr speed.
    return any(_outside_strings(text, needle) for needle in (".", "+", "e-"))


def _outside_strings(text: str, needle: str) -> bool:
    quotes = 0
    last = 0
    at = text.find(needle)
    while at != -1:
        quotes += text.count('"', last, at)
        if quotes % 2 == 0:
            return True
        last = at
        at = text.find(needle, at + 1)
    return False


def _float_place(data: Any, place: str = "") -> str | None:
    """Where the first float in ``data`` is (``items[0].amount``): walked only to word the refusal."""
    if isinstance(data, float):
        return place or "the top"
    children = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list | tuple) else ()
    for key, value in children:
        found = _float_place(value, f"{place}[{key}]" if isinstance(key, int) else f"{place}.{key}" if place else key)
        if found is not None:
            return found
    return None
