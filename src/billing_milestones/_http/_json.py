"""JSON in and out without a float anywhere: decimals parse to Decimal and serialise digit for digit."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from decimal import Decimal
from typing import Any

__all__ = ["dumps", "loads"]


def loads(data: str | bytes) -> Any:
    """Parse JSON; nesting too deep for the parser is a ValueError like any other malformed body."""
    try:
        return json.loads(data, parse_float=Decimal)
    except RecursionError:
        raise ValueError("JSON nested too deeply to parse") from None


def dumps(value: Any) -> str:
    """JSON text where each Decimal is written as a JSON number with exactly its own digits."""
    numbers: list[str] = []
    token = uuid.uuid4().hex

    def convert(obj: Any) -> Any:
        if isinstance(obj, Decimal):
            if not obj.is_finite():
                raise ValueError(f"cannot send non-finite number {obj} as JSON")
            numbers.append(format(obj, "f"))
            return f"@{token}:{len(numbers) - 1}@"
        if isinstance(obj, float):
            raise TypeError(f"refusing to serialise float {obj!r}; money and percentages travel as Decimal")
        if isinstance(obj, dict):
            return {str(k): convert(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [convert(v) for v in obj]
        if isinstance(obj, dt.datetime | dt.date):
            return obj.isoformat()
        return obj

    text = json.dumps(convert(value), separators=(",", ":"), ensure_ascii=False)
    if not numbers:
        return text
    # One pass over the text: each marker (a JSON string) becomes the Decimal's own digits.
    return re.sub(f'"@{token}:(\\d+)@"', lambda m: numbers[int(m.group(1))], text)
