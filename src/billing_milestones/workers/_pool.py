"""The small connection pool each shared budget keeps: autocommit connections, opened on first use."""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from ..errors import BudgetExhaustedError, ValidationError
from ..sync.store import with_keepalives
from ..sync.store._postgres import READ_COMMITTED  # re-exported: every workers' connection runs it first
from ..sync.store._url import redact_text
from ._idle_check import check_idle

__all__ = ["READ_COMMITTED", "LazyPool", "not_sent", "unreadable_url"]


class LazyPool:
    """A small pool of autocommit connections, opened on first use and shared by one limiter's threads (with
    TCP keepalives, see :func:`~..sync.store.with_keepalives`: a slot take on a dropped network fails within a
    minute instead of outwaiting ``max_wait``), each at READ COMMITTED (:data:`READ_COMMITTED`) and, given
    ``statement_timeout`` (seconds), with each statement cancelled past it: a budget's or a limiter's waits
    are bounded, and one statement stuck behind another session's lock must not outlast them."""

    def __init__(
        self,
        url: str,
        size: int,
        configure: Callable[[psycopg.Connection[tuple[object, ...]]], None] | None = None,
        *,
        statement_timeout: float | None = None,
    ) -> None:
        unreadable = unreadable_url(url)
        if unreadable is not None:
            raise ValidationError(f"url: not a PostgreSQL URL or conninfo libpq can read{unreadable}", field="url")
        self._url = with_keepalives(url)
        self._size = size
        self._configure = configure
        self._statement_ms = None if statement_timeout is None else max(1, round(statement_timeout * 1000))
        self._pool: ConnectionPool | None = None
        self._lock = threading.Lock()

    def _setup(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        conn.execute(READ_COMMITTED)
        if self._statement_ms is not None:
            conn.execute(f"SET statement_timeout = {self._statement_ms}")
        if self._configure is not None:
            self._configure(conn)

    def get(self) -> ConnectionPool:
        with self._lock:
            if self._pool is None:
                self._pool = ConnectionPool(
                    self._url,
                    min_size=1,
                    max_size=self._size,
                    kwargs={"autocommit": True},
                    configure=self._setup,
                    check=check_idle,  # a connection the server ended is replaced, not used for a take
                    open=True,
                )
            return self._pool

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None


def unreadable_url(url: str) -> str | None:
    """None when libpq reads ``url``, else what it says is wrong with it, its passwords masked (or nothing,
    when the URL is too broken to find them in). Why refused when the pool is made: handed to the pool, each
    of its connection attempts logged libpq's message, which quotes the URI (password and all) or the token
    it could not read. Returned rather than raised from here, so that no error holding the message is kept
    as the refusal's context."""
    try:
        conninfo_to_dict(url)
    except psycopg.Error as exc:
        message = str(exc).strip()
    else:
        return None
    try:
        return f" ({redact_text(message, url)})"
    except ValueError:  # not even a URL urllib can split (an unclosed "[" of an IPv6 host)
        return ""


def not_sent(what: str, exc: psycopg.Error, *, platform: str, path: str) -> BudgetExhaustedError:
    """A slot or budget take the database failed (a connection cut mid-statement, no pooled connection) as
    ``BudgetExhaustedError``: the request was not sent, and its caller must be able to tell (a raw psycopg
    error out of a create left its intents pending, and the pair's next run waited out writes that never
    left). ``what`` names the slot or budget."""
    cause = str(exc).splitlines()[0] if str(exc) else ""
    return BudgetExhaustedError(
        f"{what}: its database failed ({type(exc).__name__}: {cause}) (not sent)",
        platform=platform,
        method="-",
        path=path,
    )
