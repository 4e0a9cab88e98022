"""Argument checks several modules share, so each refusal reads the same wherever it is made."""

from __future__ import annotations

from .errors import ValidationError

__all__ = ["positive_int"]


def positive_int(value: object, field: str) -> int:
    """``value`` when it is an int >= 1 (never a bool), else a ValidationError naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"{field}: expected a positive int, got {value!r}", field=field, value=value)
    return value
