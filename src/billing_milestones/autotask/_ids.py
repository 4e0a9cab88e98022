"""The one id check every Autotask request shares: ids are positive integers (never a bool, str or 0)."""

from __future__ import annotations

from .._checks import positive_int

__all__ = ["check_id"]


def check_id(value: object, what: str) -> int:
    """``value`` when it is an int >= 1, else a ValidationError naming ``what`` (nothing is sent)."""
    return positive_int(value, what)
