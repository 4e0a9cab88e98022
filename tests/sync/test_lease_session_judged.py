"""A PostgreSQL lease is taken over by session only on what the server shows of that session now.

Two ways a live holder looked gone: its own backend's start hidden from the holder when it took the lease
(its connection runs as a role, ``SET ROLE``, that may not see its login role's sessions: the start was
recorded as NULL, which matches no backend), and a holder whose take committed while the taker's statement
waited on the lease row (the server had read its sessions at the start of that statement, before the holder
connected). Both run the store's own take statement on the real server."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest

from billing_milestones.sync import LinkStore
from billing_milestones.sync.store._pg_statements import try_lease_statement

from .._postgres import PostgresServer, fresh_database

Conn = psycopg.Connection[tuple[object, ...]]


def _take(conn: Conn, owner: str) -> object:
    sql, args = try_lease_statement("p", owner, 600, "now")
    row = conn.execute(sql.replace("?", "%s"), tuple(args)).fetchone()
    assert row is not None
    return row[0]


@pytest.fixture
def url(postgres_server: PostgresServer) -> str:
    made = fresh_database(postgres_server)
    LinkStore(made).close()  # the schema
    return made


def test_a_holder_whose_own_start_is_hidden_from_it_is_taken_over_only_once_its_session_ended(
    postgres_server: PostgresServer, url: str
) -> None:
    schema = url.rsplit("%3D", 1)[1]
    login, role = f"u_{uuid.uuid4().hex[:10]}", f"r_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} NOLOGIN")
        admin.execute(f"CREATE ROLE {login} LOGIN IN ROLE {role}")
        admin.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}')
        admin.execute(f'GRANT ALL ON "{schema}".leases TO {role}')
    # Logged in as one role, running as another (``options=-c role=...``, as table owners are often set).
    with psycopg.connect(url.replace("postgres@", f"{login}@") + f"%20-crole%3D{role}", autocommit=True) as holder:
        assert _take(holder, "holder") == "holder"
        with psycopg.connect(url, autocommit=True) as taker:  # a superuser: it sees every session's start
            recorded = taker.execute("SELECT session_start FROM leases WHERE pair_id = 'p'").fetchone()
            assert recorded == (None,)  # what the holder could see of its own session
            assert _take(taker, "next") == "holder"  # alive: kept
        assert holder.execute("SELECT 1").fetchone() == (1,)
        session = holder.info.backend_pid
    _until_ended(url, session)
    with psycopg.connect(url, autocommit=True) as taker:  # its session gone (no backend of its pid): taken
        assert _take(taker, "next") == "next"


def _until_ended(url: str, pid: int) -> None:
    deadline = time.monotonic() + 20
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            if conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone() == (0,):
                return
            time.sleep(0.02)
    raise AssertionError(f"backend {pid} still runs")


def _waiting_on_a_lock(url: str, pid: int) -> None:
    deadline = time.monotonic() + 20
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
            if row == ("Lock",):
                return
            time.sleep(0.01)
    raise AssertionError(f"backend {pid} never waited on a lock")


def test_a_holder_that_took_the_lease_while_the_taker_waited_is_never_taken_over(url: str) -> None:
    """The taker's statement starts (and reads its own session), then waits on the lease row; meanwhile a
    holder connects and the lease becomes its own (written here by the transaction the taker waits on, as
    the holder's take would be). When the taker goes on, the holder is alive: its lease must hold."""
    with psycopg.connect(url, autocommit=True) as dead:  # a first holder, whose session then ends
        assert _take(dead, "dead") == "dead"
    taker: Conn = psycopg.connect(url, autocommit=True)
    taker_pid = taker.info.backend_pid
    with psycopg.connect(url) as locker:
        locker.execute("SELECT 1 FROM leases WHERE pair_id = 'p' FOR UPDATE")
        result: list[object] = []
        thread = threading.Thread(target=lambda: result.append(_take(taker, "next")))
        thread.start()
        _waiting_on_a_lock(url, taker_pid)
        holder: Conn = psycopg.connect(url, autocommit=True)  # connected after the taker's statement began
        locker.execute(
            "UPDATE leases SET (owner, session_owner, session_pid, session_start, session_role) = "
            "(SELECT 'holder', 'holder', a.pid, a.backend_start, a.usesysid "
            " FROM pg_stat_get_activity(%s) AS a) WHERE pair_id = 'p'",
            (holder.info.backend_pid,),
        )
        locker.commit()
        thread.join(20)
    assert result == ["holder"]  # alive: kept
    holder.close()
    taker.close()
