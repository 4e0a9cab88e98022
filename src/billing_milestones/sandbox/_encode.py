"""Response bodies as the emulators send them, encoded by the standard library's C encoder.

The clients' :func:`~billing_milestones._http._json.dumps` walks every value in Python first (to refuse, by
place, what a server would round); an emulator answers with what it holds, and at scale that walk was most
of a response's CPU. Here only what JSON has no type for reaches Python: each Decimal becomes a marker
string, then its own digits in one pass over the text, and a date its ISO form. The bytes are those
``dumps`` writes (tests/sandbox/test_encode.py compares them).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from decimal import Decimal
from typing import Any

__all__ = ["encode"]


def encode(data: Any) -> str:
    """Compact JSON text of ``data``; each Decimal written as a JSON number with exactly its digits."""
    numbers: list[str] = []
    token = secrets.token_hex(8)

    def default(obj: Any) -> Any:
        if isinstance(obj, Decimal):
            if not obj.is_finite():
                raise ValueError(f"cannot send the non-finite number {obj} as JSON")
            numbers.append(format(obj, "f"))
            return f"@{token}:{len(numbers) - 1}@"
        if isinstance(obj, dt.datetime | dt.date):
            return obj.isoformat()
        raise TypeError(f"an emulator cannot send {type(obj).__name__} as JSON")

    text = json.dumps(data, default=default, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    if not numbers:
        return text
    return re.sub(f'"@{token}:(\\d+)@"', lambda m: numbers[int(m.group(1))], text)
