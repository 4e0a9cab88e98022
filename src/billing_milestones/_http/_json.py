"""JSON in and out without a float anywhere: decimals parse to Decimal and serialise digit for digit."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from decimal import Decimal
from typing import Any

__all__ = ["MAX_EXACT_INT", "double_exact", "dumps", "loads"]


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
    """
    numbers: list[str] = []
    token = uuid.uuid4().hex

    def convert(obj: Any, path: str) -> Any:
        if isinstance(obj, Decimal):
            if not obj.is_finite():
                raise _refused(path, f"cannot send the non-finite number {obj} as JSON")
            if exact and abs(obj) > MAX_EXACT_INT:
                raise _refused(path, f"{obj} is beyond what a JSON number carries exactly (2**53)")
            if exact and not double_exact(obj):
                raise _refused(path, f"{obj} has more digits than a JSON number (a double) carries exactly")
            numbers.append(format(obj, "f"))
            return f"@{token}:{len(numbers) - 1}@"
        if isinstance(obj, bool):
            return obj
        if exact and isinstance(obj, int) and abs(obj) > MAX_EXACT_INT:
            raise _refused(path, f"{obj} is beyond what a JSON number carries exactly (2**53)")
        if isinstance(obj, float):
            raise TypeError(f"refusing to serialise float {obj!r}; money and percentages travel as Decimal")
        if isinstance(obj, dict):
            return {str(k): convert(v, f"{path}.{k}" if path else str(k)) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [convert(v, f"{path}[{i}]") for i, v in enumerate(obj)]
        if isinstance(obj, dt.datetime | dt.date):
            return obj.isoformat()
        return obj

    text = json.dumps(convert(value, ""), separators=(",", ":"), ensure_ascii=False)
    if not numbers:
        return text
    # One pass over the text: each marker (a JSON string) becomes the Decimal's own digits.
    return re.sub(f'"@{token}:(\\d+)@"', lambda m: numbers[int(m.group(1))], text)
