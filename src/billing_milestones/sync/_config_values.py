"""Scalar checks for the config file: each value checked where it is read, refused by its dotted key.

Kept apart from :mod:`.config` (which says what the file holds) so each stays one job and a short read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError

__all__ = ["as_bool", "as_date", "number", "only", "opt_int", "opt_str", "positive", "table"]


def table(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    section = data.get(name, {})
    if not isinstance(section, dict):
        raise ConfigError(f"{name}: expected a table [{name}], got {type(section).__name__}", key=name)
    return dict(section)


def only(section: Mapping[str, Any], allowed: set[str], name: str) -> None:
    for key in section:
        if key not in allowed:
            raise ConfigError(f"{name}.{key}: unknown key (allowed: {', '.join(sorted(allowed))})", key=f"{name}.{key}")


def opt_str(section: Mapping[str, Any], key: str, name: str) -> str | None:
    value = section.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{name}.{key}: expected a non-empty string, got {value!r}", key=f"{name}.{key}")
    return value.strip()


def opt_int(section: Mapping[str, Any], key: str, name: str) -> int | None:
    value = section.get(key)
    if value is None:
        return None
    try:
        return int(str(value))
    except ValueError:
        raise ConfigError(f"{name}.{key}: expected an integer, got {value!r}", key=f"{name}.{key}") from None


def number(section: Mapping[str, Any], key: str, name: str, default: float, *, upper: float | None) -> float:
    value = section.get(key, default)
    bound = f"from 0 to {upper:g}" if upper is not None else "of 0 or more"
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or (upper and value > upper):
        raise ConfigError(f"{name}.{key}: expected a number {bound}, got {value!r}", key=f"{name}.{key}")
    return float(value)


def positive(section: Mapping[str, Any], key: str, name: str, default: float, *, upper: float) -> float:
    """A number of seconds above 0 and at most ``upper`` (0 would turn a safety wait off)."""
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= upper:
        raise ConfigError(
            f"{name}.{key}: expected a number above 0 and at most {upper:g}, got {value!r}", key=f"{name}.{key}"
        )
    return float(value)


def as_bool(section: Mapping[str, Any], key: str, name: str, default: bool) -> bool:
    value = section.get(key, default)
    if isinstance(value, bool):
        return value
    raise ConfigError(f"{name}.{key}: expected true or false, got {value!r}", key=f"{name}.{key}")


def as_date(value: Any, key: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{key}: expected a date YYYY-MM-DD, got {value!r}", key=key) from None
