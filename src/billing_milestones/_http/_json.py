"""JSON in and out without a float anywhere: decimals parse to Decimal and serialise digit for digit."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Final

__all__ = ["MAX_EXACT_INT", "CheckedObject", "double_exact", "dumps", "loads"]


def double_exact(value: Decimal) -> bool:
    """True when the nearest double prints back as the same number: what a JSON peer that reads numbers as
    doubles (the servers, many clients) holds is exactly this, in a request and in a response alike."""
    if not value.is_finite():
        return False
    try:
        return Decimal(repr(float(value))) == value
    except OverflowError:
        return False


def _refused(path: str, problem: str) -> Exception:
    from ..errors import ValidationError

    where = path or "body"
    return ValidationError(f"{where}: {problem}; refused before sending", field=where)


def loads(data: str | bytes) -> Any:
    """Parse JSON; nesting too deep for the parser is a ValueError like any other malformed body."""
    try:
        return json.loads(data, parse_float=Decimal)
    except RecursionError:
        raise ValueError("JSON nested too deeply to parse") from None


#: The largest whole number every JSON peer holds exactly (servers read JSON numbers as doubles).
MAX_EXACT_INT = 2**53


def dumps(value: Any, *, exact: bool = False) -> str:
    """JSON text where each Decimal is written as a JSON number with exactly its own digits.

    With ``exact=True`` (every request body the clients send): exact or not at all, at the wire too. A
    number the server would round (more digits than a double carries, beyond 2**53) is refused with a
    ValidationError naming its place in the body, before anything is sent. Without it, any finite number is
    written as it is (the emulators answer with whatever they hold, as a real server would).

    Most bodies hold only what the C encoder writes exactly as the walk below would (text-keyed objects,
    lists, text, whole numbers, booleans, null; a Kantata body is all of that), or that plus Decimals and
    dates (Autotask's): one look over the body says which (:func:`_kinds`), and the encoder writes it, the
    Decimals through its ``default`` hook as markers. Anything else, and any body with a value to refuse,
    takes the walk, which names the place of what it refuses.
    """
    kinds = _kinds(value, exact)
    if kinds == _PLAIN:
        return _ENCODER.encode(value)
    if not kinds & _OTHER:
        return _encode_hooked(value)
    return _walked(value, exact)


class CheckedObject(dict[str, Any]):
    """A JSON object its writer has already checked to be plain and exact (text keys; text, booleans, null,
    whole numbers within 2**53 and such objects as values), so :func:`dumps` does not look inside it again.

    Only a writer that checks every value it puts in makes one (the Kantata bulk create's, for the usual
    milestone: kantata/_write.py); anything else it holds would be sent unchecked. The encoder writes it as the
    plain dict it is, key for key."""

    __slots__ = ()


#: What :func:`_kinds` finds: JSON the encoder writes as it is, Decimals or dates (its ``default`` hook), or
#: anything else (a tuple, a non-text key, a subclass, a float, a number to refuse): the walk's.
_PLAIN, _HOOKED, _OTHER = 1, 2, 4
_ENCODER: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
#: The values the encoder writes as the walk does whatever they hold (an int still has its size checked).
_SCALARS: Final = frozenset({str, bool, type(None)})


def _kinds(obj: Any, exact: bool) -> int:
    """What ``obj`` holds, as :data:`_PLAIN` / :data:`_HOOKED` / :data:`_OTHER` bits (``_OTHER`` at once on the
    first thing the encoder would not write as the walk does). Text, whole numbers, null and booleans inside an
    object or a list are looked at in place, without a call: they are most of a body's values."""
    kind = type(obj)
    if kind is CheckedObject:
        return _PLAIN
    if kind is dict:
        for key in obj:
            if type(key) is not str:
                return _OTHER
        return _kinds_of_items(obj.values(), exact)
    if kind is list:
        return _kinds_of_items(obj, exact)
    if kind is str or kind is bool or obj is None:
        return _PLAIN
    if kind is int:
        return _PLAIN if not exact or -MAX_EXACT_INT <= obj <= MAX_EXACT_INT else _OTHER
    if kind is Decimal:
        if not obj.is_finite() or (exact and (abs(obj) > MAX_EXACT_INT or not double_exact(obj))):
            return _OTHER
        return _HOOKED
    if kind is dt.datetime or kind is dt.date:
        return _HOOKED
    return _OTHER


def _kinds_of_items(items: Iterable[Any], exact: bool) -> int:
    """:func:`_kinds` of an object's values or a list's items, together."""
    found = _PLAIN
    for item in items:
        leaf = type(item)
        if leaf in _SCALARS or leaf is CheckedObject:
            continue
        if leaf is int:
            if exact and not -MAX_EXACT_INT <= item <= MAX_EXACT_INT:
                return _OTHER
            continue
        found |= _kinds(item, exact)
        if found & _OTHER:
            return _OTHER
    return found


#: A marker the encoder writes for a Decimal: the call's own random token and the number's place in its list.
_MARKER: Final = re.compile(r'"@([0-9a-f]{32}):(\d+)@"')


def _digits(text: str, token: str, numbers: list[str]) -> str:
    """``text`` with each of this call's markers replaced by its Decimal's digits (one pass; a string that only
    looks like a marker, with another token, is left as it is)."""

    def put(match: re.Match[str]) -> str:
        return numbers[int(match.group(2))] if match.group(1) == token else match.group(0)

    return _MARKER.sub(put, text)


def _encode_hooked(value: Any) -> str:
    """The encoder's JSON of a body :func:`_kinds` found Decimals or dates in (all checked, none refused)."""
    numbers: list[str] = []
    token = os.urandom(16).hex()

    def default(obj: Any) -> str:
        if type(obj) is Decimal:
            numbers.append(format(obj, "f"))
            return f"@{token}:{len(numbers) - 1}@"
        return str(obj.isoformat())

    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=default)
    return _digits(text, token, numbers) if numbers else text


def _walked(value: Any, exact: bool) -> str:
    """The walk: every value converted in Python, each refusal naming its place (built only when refusing)."""
    numbers: list[str] = []
    token = os.urandom(16).hex()

    def convert(obj: Any, where: _Where) -> Any:
        if isinstance(obj, Decimal):
            if not obj.is_finite():
                raise _refused(_path(where), f"cannot send the non-finite number {obj} as JSON")
            if exact and abs(obj) > MAX_EXACT_INT:
                raise _refused(_path(where), f"{obj} is beyond what a JSON number carries exactly (2**53)")
            if exact and not double_exact(obj):
                raise _refused(_path(where), f"{obj} has more digits than a JSON number (a double) carries exactly")
            numbers.append(format(obj, "f"))
            return f"@{token}:{len(numbers) - 1}@"
        if isinstance(obj, bool):
            return obj
        if exact and isinstance(obj, int) and abs(obj) > MAX_EXACT_INT:
            raise _refused(_path(where), f"{obj} is beyond what a JSON number carries exactly (2**53)")
        if isinstance(obj, float):
            raise TypeError(f"refusing to serialise float {obj!r}; money and percentages travel as Decimal")
        if isinstance(obj, dict):
            return {str(k): convert(v, (where, k, False)) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [convert(v, (where, i, True)) for i, v in enumerate(obj)]
        if isinstance(obj, dt.datetime | dt.date):
            return obj.isoformat()
        return obj

    text = json.dumps(convert(value, None), separators=(",", ":"), ensure_ascii=False)
    return _digits(text, token, numbers) if numbers else text


#: A value's place in the body: (its container's place, its key or index, whether an index); None the root.
_Where = tuple[Any, Any, bool] | None


def _path(where: _Where) -> str:
    """The place as refusals name it: ``billing_milestones[0].amount_in_cents`` (empty for the body itself)."""
    pieces: list[tuple[Any, bool]] = []
    while where is not None:
        where, piece, index = where
        pieces.append((piece, index))
    path = ""
    for piece, index in reversed(pieces):
        path = f"{path}[{piece}]" if index else (f"{path}.{piece}" if path else str(piece))
    return path
