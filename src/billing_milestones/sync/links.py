"""The link store's public names where they have always been: see :mod:`.store` for the backends."""

from __future__ import annotations

from .store import SCHEMA_VERSION, Intent, Link, LinkStore, RunRecord

__all__ = ["SCHEMA_VERSION", "Intent", "Link", "LinkStore", "RunRecord"]
