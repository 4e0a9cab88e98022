"""Response bodies as the emulators send them, encoded by the standard library's C encoder.

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
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from decimal import Decimal
from typing import Any

__all__ = ["encode"]

#: A JSON string as the encoder writes it (escapes included), for text holding an escaped quote.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')


def encode(data: Any) -> str:
    """Compact JSON text of ``data``; each Decimal written as a JSON number with exactly its digits."""
    while True:
        # Each Decimal is written as this call's marker (a string), in the order the encoder meets them, so
        # the n-th marker in the text is the n-th number: the text is cut at the markers (at memchr speed, no
        # pattern) and the numbers put between the pieces. A string of the data that spells the marker would
        # make one piece too many: then again with another token (never in practice: 64 random bits).
        text, numbers, marker = _encoded(data, secrets.token_hex(8))
        if not numbers:
            return text
        pieces = text.split(marker)
        if len(pieces) == len(numbers) + 1:
            joined = [""] * (2 * len(numbers) + 1)
            joined[::2] = pieces
            joined[1::2] = numbers
            return "".join(joined)


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
