"""Which backend a link store target names: ``sqlite:///path``, a plain path, or ``postgresql://...``.

One parser for the config file, ``BILLING_MILESTONES_LINKS`` and ``links migrate --from/--to``, so the three
never disagree on what a URL means. SQLite URLs read like SQLAlchemy's: ``sqlite:///links.db`` is relative,
``sqlite:////var/lib/links.db`` absolute. A spelling that another reader would take for another file (a host,
a query, a %-escape, a scheme without ``//``, a Windows path here) is refused, never guessed: a store looked
for in the wrong place is a new, empty one, and a sync from it creates every milestone again. A password in a
PostgreSQL URL is kept out of every message.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from ..._http._redact import register_secret
from ...errors import ConfigError

__all__ = ["KEEPALIVES", "StoreTarget", "lasting", "parse_target", "redact_text", "redact_url", "with_keepalives"]

_POSTGRES_SCHEMES = ("postgresql", "postgres")
#: libpq's keyword/value form (``host=db dbname=links password=...``): one of its connection keywords first.
_KEYWORD_CONNINFO: Final = re.compile(
    r"\s*(host|hostaddr|port|dbname|user|password|passfile|service|sslmode|options|application_name"
    r"|connect_timeout)\s*=",
    re.IGNORECASE,
)
_KEYWORD_PASSWORD: Final = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_PERCENT_ESCAPE: Final = re.compile(r"%[0-9A-Fa-f]{2}")
#: A scheme of ours (or SQLAlchemy's spelling of one) and a colon, without the ``//`` that makes it a URL.
_SCHEME_SHORT: Final = re.compile(r"(sqlite|postgres|postgresql)(\+\w+)?:(?!//)", re.IGNORECASE)
#: A drive letter and its separator (``C:\\``, ``C:/``), or a share (``\\\\server``).
_WINDOWS_PATH: Final = re.compile(r"[A-Za-z]:[\\/]|\\\\")


@dataclass(frozen=True)
class StoreTarget:
    """A parsed target: the backend, and what it opens (a file path, or a libpq URL)."""

    kind: Literal["sqlite", "postgresql"]
    location: str

    @property
    def display(self) -> str:
        """The target as it may be shown: a path, or the URL without its password."""
        return redact_url(self.location) if self.kind == "postgresql" else self.location

    def __repr__(self) -> str:
        # The location as shown: a repr reaches logs, debuggers and the locals an error tracker captures.
        return f"StoreTarget(kind={self.kind!r}, location={self.display!r})"


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
    # Not urlunsplit: with no host (a socket in the query, postgresql:///db?host=/run/postgresql) it wrote
    # postgresql:/db, which no libpq reads and which, given back as a target, named a SQLite file.
    shown = f"{parts.scheme}://{netloc}{parts.path}"
    encoded = urllib.parse.urlencode(query, safe="*")
    return shown + (f"?{encoded}" if encoded else "") + (f"#{parts.fragment}" if parts.fragment else "")


def redact_text(text: str, url: str) -> str:
    """``text`` (a driver's message about ``url``) with every password the URL holds as ``***``: libpq quotes
    a token it cannot read back as it was written, so a password with an unencoded ``%`` or space is in its
    error (``invalid percent-encoded token: "50%off"``)."""
    for form in sorted(url_passwords(url), key=len, reverse=True):
        text = text.replace(form, "***")
    return text


def url_passwords(url: str) -> set[str]:
    """Every form the passwords of ``url`` may be written in (its userinfo's, its query's ``password=``): as
    given, and %-decoded as libpq and urllib read them."""
    parts = urllib.parse.urlsplit(url)
    userinfo, at, _host = parts.netloc.rpartition("@")
    secrets = [userinfo.partition(":")[2]] if at else []
    for item in parts.query.split("&"):
        key, sep, value = item.partition("=")
        if sep and urllib.parse.unquote_plus(key).lower() == "password":
            secrets.append(value)
    forms = {
        form for secret in secrets for form in (secret, urllib.parse.unquote(secret), urllib.parse.unquote_plus(secret))
    }
    return {form for form in forms if form}


def parse_target(target: str | Path, *, key: str = "links") -> StoreTarget:
    """Read a link store target; anything unreadable is a ConfigError naming ``key``."""
    if isinstance(target, Path):
        return StoreTarget("sqlite", str(target))
    text = target.strip()
    if not text:
        raise ConfigError(f"{key}: expected a file path, sqlite:///path or postgresql://..., got {target!r}", key=key)
    scheme, sep, rest = text.partition("://")
    if not sep:
        if _KEYWORD_CONNINFO.match(text):
            # Read as a path it would be echoed whole by every error (its password too), and made as a file.
            shown = _KEYWORD_PASSWORD.sub(r"\1***", text)
            raise ConfigError(
                f"{key}: a libpq keyword/value string is not a link store target; write it as "
                f"postgresql://user@host:5432/dbname (the password from PGPASSWORD or ~/.pgpass), got {shown!r}",
                key=key,
            )
        if _SCHEME_SHORT.match(text):
            # sqlite:links.db, postgresql:db: a path to a file named so (sqlite:/x in a folder "sqlite:").
            raise ConfigError(
                f"{key}: {text.partition(':')[0]!r} without :// is read as a file path; write sqlite:///path, "
                "postgresql://host/dbname, or the file's path alone",
                key=key,
            )
        return StoreTarget("sqlite", _not_windows(text, key))
    scheme = scheme.lower()
    if scheme in _POSTGRES_SCHEMES:
        if not _names_database(text):
            raise ConfigError(
                f"{key}: a PostgreSQL URL names its database (postgresql://user@host:5432/DBNAME), got "
                f"{redact_url(text)!r}",
                key=key,
            )
        # Registered as the clients' secrets are: any log line or error of the SDK's that quotes one (a
        # driver's message, a library's traceback) has it scrubbed, beside the URL's own redaction.
        for form in url_passwords(text):
            register_secret(form)
        return StoreTarget("postgresql", text)
    if scheme == "sqlite":
        return StoreTarget("sqlite", _not_windows(_sqlite_path(text, rest, key), key))
    # SQLAlchemy's spelling (postgresql+psycopg://, sqlite+pysqlite://) names a driver libpq does not read.
    base, driver, _ = scheme.partition("+")
    known = driver and base in (*_POSTGRES_SCHEMES, "sqlite")
    hint = f" (write {base}://, without the driver)" if known else ""
    raise ConfigError(
        f"{key}: unknown link store scheme {scheme!r}{hint}; use a file path, sqlite:///path or postgresql://...",
        key=key,
    )


def _names_database(url: str) -> bool:
    """Whether ``url`` says which database: in its path, or as libpq also reads it, its query's ``dbname=``
    (or a ``service=`` whose file does). Without one libpq takes the user's name, a database meant for
    something else, where the store would be made unnoticed."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    return bool(parts.path.strip("/")) or any(k.lower() in ("dbname", "service") and v.strip() for k, v in query)


def lasting(target: StoreTarget, key: str) -> StoreTarget:
    """``target``, refused when it is SQLite's in-memory database: fine for a test's ``LinkStore(":memory:")``,
    but as the configured store (or ``links migrate --to``) every link is gone when the process ends, and the
    next run creates every milestone again (a migrate into it reported every row copied)."""
    if target.kind == "sqlite" and target.location == ":memory:":
        raise ConfigError(
            f"{key}: :memory: keeps no link after the process ends, so the next run would create every "
            "milestone again; name a file (or a postgresql:// URL)",
            key=key,
        )
    return target


def _not_windows(path: str, key: str) -> str:
    """``path``, refused when it is a Windows drive or share path (``C:\\data\\links.db``, ``\\\\srv\\x``)
    on a system that has neither: a config carried over from Windows named a file of that whole name, made
    beside the config file, a new store where every milestone is created again."""
    if os.name != "nt" and _WINDOWS_PATH.match(path):
        raise ConfigError(
            f"{key}: {path!r} is a Windows path, which this system would read as a file of that whole name; "
            "give this machine's path to the store",
            key=key,
        )
    return path


def _sqlite_path(text: str, rest: str, key: str) -> str:
    """The file a ``sqlite:///`` URL names, its text after the third slash taken as it is. What a URL reader
    would take otherwise is refused rather than guessed: a host (``sqlite://data/links.db``, often a meant
    absolute path short of a slash), a query or fragment (``?mode=ro`` was part of the file's name), a
    percent-escape (``my%20links.db`` was a file of that name, not ``my links.db``). Each named a file other
    than the one meant: a new, empty store, so a second copy of every milestone."""
    if rest in ("", "/"):
        raise ConfigError(f"{key}: sqlite:/// needs a file path after it, got {text!r}", key=key)
    if not rest.startswith("/"):
        raise ConfigError(
            f"{key}: a sqlite URL takes no host; write sqlite:///relative/path or sqlite:////absolute/path, "
            f"got {redact_url(text)!r}",
            key=key,
        )
    path = rest[1:]
    if "?" in path or "#" in path or _PERCENT_ESCAPE.search(path):
        raise ConfigError(
            f"{key}: a sqlite:/// URL is read as it is written (no query, fragment or %-escape is decoded), "
            f"so {redact_url(text)!r} named a file of that whole name; write the file's path plainly, without "
            "sqlite:///",
            key=key,
        )
    return path


#: libpq's TCP keepalive options every connection we open gets unless its URL sets them. A connection whose
#: network dropped without a reset (a firewall forgetting it, a host gone) otherwise waits on its socket for
#: as long as the kernel retransmits, a quarter of an hour and more: a job blocked in a slot take or a store
#: call far past the limiter's ``max_wait``. With these, an idle-looking connection is probed after 30 s and
#: given up 60 s after the last sign of life (``tcp_user_timeout`` bounds unacknowledged data the same way);
#: a healthy server answers probes whatever its queries take, so nothing that works is cut short.
KEEPALIVES: Final = {
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
    "tcp_user_timeout": "60000",
}


def with_keepalives(url: str) -> str:
    """``url`` as a libpq conninfo with :data:`KEEPALIVES` added where it sets none of its own: a value the
    URL gives wins, and a connection named by a service (``service=``, ``PGSERVICE``) keeps the service
    file's. A URL libpq cannot read is returned as it is, for the connect to report as it always has."""
    from psycopg import Error
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        params = conninfo_to_dict(url)
    except Error:
        return url
    if "service" in params or os.environ.get("PGSERVICE"):
        return url
    missing = {key: value for key, value in KEEPALIVES.items() if key not in params}
    return make_conninfo(url, **missing) if missing else url
