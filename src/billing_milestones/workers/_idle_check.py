"""Whether a pooled connection may be lent: refused when the server has ended it, found without a round trip.

psycopg's pools check a connection before lending it only when given a ``check``; procrastinate gives its
pool ``check_connection``, an empty query, so every one of the queue's queries (fetch a job, finish it, beat
the heart) was two round trips, and the worker's event loop spent about a tenth of its CPU on the checks.
What that check finds is a connection the server ended while it sat in the pool: a restart, an
``idle_session_timeout``, ``pg_terminate_backend``. The server then writes its last message and closes the
socket, so the socket is readable, and an idle connection's socket is readable for no other reason (these
connections never ``LISTEN``): a look at it with a zero timeout finds the same connections, sending nothing.
A socket that is readable for any reason refuses the connection, and the pool opens a new one in its
place. A network dropped without a reset is found by neither check (the empty query would wait on it);
the TCP keepalives every connection carries (see ``sync.store.with_keepalives``) end those.
"""

from __future__ import annotations

import select
from typing import Any

import psycopg

__all__ = ["check_idle", "check_idle_async", "ended_by_server"]


def ended_by_server(conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> bool:
    """True when ``conn`` is closed, broken, or its socket has something to read while it is idle (the
    server's farewell and end of stream, or anything else an idle connection should not be sent)."""
    if conn.closed or conn.broken:
        return True
    fileno = conn.fileno()
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fileno, select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))  # hang-ups and errors are reported whether asked for or not
    readable, _, broken = select.select([fileno], [], [fileno], 0)  # pragma: no cover - Windows has no poll
    return bool(readable or broken)  # pragma: no cover


_ENDED = "the server ended this pooled connection while it was idle"


def check_idle(conn: psycopg.Connection[Any]) -> None:
    """A sync pool's ``check``: closes ``conn`` and raises when the server has ended it. Closed, because a
    pool puts a connection that failed its check back unless it is closed (its empty query broke it), and
    would lend the same one again."""
    if ended_by_server(conn):
        conn.close()
        raise psycopg.OperationalError(_ENDED)


async def check_idle_async(conn: psycopg.AsyncConnection[Any]) -> None:
    """An async pool's ``check``, as :func:`check_idle`."""
    if ended_by_server(conn):
        await conn.close()
        raise psycopg.OperationalError(_ENDED)
