"""Which backend a link store target names: ``sqlite:///path``, a plain path, or ``postgresql://...``.

One parser for the config file, ``BILLING_MILESTONES_LINKS`` and ``links migrate --from/--to``, so the three
never disagree on what a URL means. SQLite URLs read like SQLAlchemy's: ``sqlite:///links.db`` is relative,
``sqlite:////var/lib/links.db`` absolute. A password in a PostgreSQL URL is kept out of every message.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ...errors import ConfigError

__all__ = ["StoreTarget", "parse_target", "redact_url"]

_POSTGRES_SCHEMES = ("postgresql", "postgres")


@dataclass(frozen=True)
class StoreTarget:
    """A parsed target: the backend, and what it opens (a file path, or a libpq URL)."""

    kind: Literal["sqlite", "postgresql"]
    location: str

    @property
    def display(self) -> str:
        """The target as it may be shown: a path, or the URL without its password."""
        return redact_url(self.location) if self.kind == "postgresql" else self.location


def redact_url(url: str) -> str:
    """``postgresql://u:secret@h/db`` -> ``postgresql://u:***@h/db``; the query's ``password=`` too."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, sep, _password = userinfo.partition(":")
        netloc = f"{user}:***@{host}" if sep else netloc
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query = [(k, "***" if k.lower() == "password" else v) for k, v in query]
    return urllib.parse.urlunsplit(
        (parts.scheme, netloc, parts.path, urllib.parse.urlencode(query, safe="*"), parts.fragment)
    )


def parse_target(target: str | Path, *, key: str = "links") -> StoreTarget:
    """Read a link store target; anything unreadable is a ConfigError naming ``key``."""
    if isinstance(target, Path):
        return StoreTarget("sqlite", str(target))
    text = target.strip()
    if not text:
        raise ConfigError(f"{key}: expected a file path, sqlite:///path or postgresql://..., got {target!r}", key=key)
    scheme, sep, rest = text.partition("://")
    if not sep:
        return StoreTarget("sqlite", text)
    scheme = scheme.lower()
    if scheme in _POSTGRES_SCHEMES:
        if not urllib.parse.urlsplit(text).path.strip("/"):
            raise ConfigError(
                f"{key}: a PostgreSQL URL names its database (postgresql://user@host:5432/DBNAME), got "
                f"{redact_url(text)!r}",
                key=key,
            )
        return StoreTarget("postgresql", text)
    if scheme == "sqlite":
        path = rest[1:] if rest.startswith("/") else rest
        if not path:
            raise ConfigError(f"{key}: sqlite:/// needs a file path after it, got {text!r}", key=key)
        return StoreTarget("sqlite", path)
    raise ConfigError(
        f"{key}: unknown link store scheme {scheme!r}; use a file path, sqlite:///path or postgresql://...",
        key=key,
    )
