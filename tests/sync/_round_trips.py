"""Counting a link store's round trips: what the store tests pin per batch and per run."""

from __future__ import annotations

from typing import Any


class CountingBackend:
    """A backend that counts the calls that reach the database (one round trip each on PostgreSQL)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.calls = inner, 0

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.inner, name)
        if name in ("rows", "count", "batch"):

            def counted(*args: Any, **kwargs: Any) -> Any:
                self.calls += 1
                return value(*args, **kwargs)

            return counted
        return value
