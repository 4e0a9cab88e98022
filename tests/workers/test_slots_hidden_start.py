"""A slot's holder whose connection could not see its own backend's start (it runs as a role, ``SET ROLE``,
without its login role's rights) recorded NULL for it, which no backend's start equals: a waiter that sees
every start (a superuser, pg_read_all_stats) took such a live holder's slot as soon as its lease ran out.
It keeps it as a holder of a visible start does: while a backend of its pid and role is left."""

from __future__ import annotations

import time
import uuid

import psycopg
import pytest

from billing_milestones.errors import BudgetExhaustedError
from billing_milestones.workers import PostgresLimiter

from .._postgres import PostgresServer, fresh_database

NAME = "bm-limit:t:k"


def _held(url: str) -> list[tuple[object, ...]]:
    """(holder, backend_start, busy_until passed) of key k's held slots."""
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "SELECT holder, backend_start, busy_until < clock_timestamp() FROM bm_request_slots "
            "WHERE name = %s AND holder IS NOT NULL",
            (NAME,),
        ).fetchall()


def test_a_holder_whose_own_start_is_hidden_keeps_its_slot_while_its_session_lives(
    postgres_server: PostgresServer, limiters: list[PostgresLimiter]
) -> None:
    url = fresh_database(postgres_server)
    schema = url.rsplit("%3D", 1)[1]
    waiter = PostgresLimiter(url, 1, namespace="t", timeout=0.01, max_wait=0.5)  # a superuser: sees every start
    limiters.append(waiter)
    with waiter("k"):
        pass  # the table and its rows, made by the waiter's role
    login, role = f"u_{uuid.uuid4().hex[:10]}", f"r_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} NOLOGIN")
        admin.execute(f"CREATE ROLE {login} LOGIN IN ROLE {role}")
        admin.execute(f'GRANT ALL ON SCHEMA "{schema}" TO {role}')
        admin.execute(f'GRANT ALL ON "{schema}".bm_request_slots TO {role}')
    holder = PostgresLimiter(
        url.replace("postgres@", f"{login}@") + f"%20-crole%3D{role}", 1, namespace="t", timeout=0.01
    )
    limiters.append(holder)
    with holder("k"):
        deadline = time.monotonic() + 20
        while not (held := _held(url)) or held[0][2] is not True:  # until the server's clock passes its lease
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert held[0][1] is None  # what the holder could see of its own start
        with pytest.raises(BudgetExhaustedError), waiter("k"):
            pass  # alive: kept past its lease
        assert len(_held(url)) == 1
    with waiter("k"):
        pass  # released: free again
