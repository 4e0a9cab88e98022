"""The one id check every Autotask request shares: ids are positive integers (never a bool, str or 0)."""

from __future__ import annotations

from .. import errors

__all__ = ["check_id"]


def check_id(value: object, what: str) -> int:
    """``value`` when it is an int >= 1, else a ValidationError naming ``what`` (nothing is sent)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise errors.ValidationError(f"{what}: expected a positive int, got {value!r}", field=what, value=value)
    return value
