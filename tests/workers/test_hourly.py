"""The hourly budget's take as one call of its PL/pgSQL function, planned once per connection: those plans
must still read the count's row, not the window (``test_budgets`` pins the budget itself, exact across
threads and processes)."""

from __future__ import annotations

import psycopg

from billing_milestones.workers import PostgresHourlyBudget, _hourly

from .._postgres import PostgresServer, fresh_database


def _fill(url: str, key: str, rows: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO bm_request_budget (key, at) SELECT %s, extract(epoch FROM clock_timestamp())"
            " FROM generate_series(1, %s)",
            (f"bm-budget:{key}", rows),
        )


def test_a_take_with_its_plan_cached_still_reads_the_count_not_the_window(postgres_server: PostgresServer) -> None:
    """A function's statements are planned once per connection (a generic plan after the fifth call): those
    plans too read the count's row and the rows a take forgets, never the 10,000 rows of the window."""
    url = fresh_database(postgres_server)
    budget = PostgresHourlyBudget(url, 20_000, key="cached")
    budget.warm(1)
    _fill(url, "cached", 10_000)
    _hourly._run(psycopg.connect(url, autocommit=True), _hourly._RECOUNT, budget._args)
    with psycopg.connect(url, prepare_threshold=0) as conn:  # one transaction: exact table statistics
        conn.execute("SET enable_indexonlyscan = off")  # every index entry read fetches its row, and counts
        for _ in range(12):
            assert _hourly._take(conn, budget._args)[0] is True
        row = conn.execute(
            "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) FROM pg_stat_xact_user_tables"
            " WHERE relname = 'bm_request_budget'"
        ).fetchone()
        assert row is not None and int(row[0]) <= 12, row
    assert budget.used() == 10_012
    budget.close()


def test_a_budget_makes_its_own_take_function_even_when_a_later_schema_of_its_path_has_one(
    postgres_server: PostgresServer,
) -> None:
    """Looked for in the budget's own schema, not along the search_path (see the link store's test)."""
    mine, other = (fresh_database(postgres_server).rsplit("%3D", 1)[1] for _ in range(2))
    with psycopg.connect(postgres_server.url(), autocommit=True) as conn:
        conn.execute(
            f'CREATE FUNCTION "{other}".bm_budget_take_v1(take_key text, take_window double precision, '
            "take_limit bigint, OUT taken boolean, OUT oldest double precision, OUT now double precision, "
            "OUT counted boolean) LANGUAGE plpgsql AS $$ BEGIN taken := true; counted := true; END $$"
        )
    budget = PostgresHourlyBudget(postgres_server.url() + f"?options=-csearch_path%3D{mine}%2C{other}", 1, key="own")
    try:
        assert budget.acquire() is None
        assert budget.acquire() is not None  # the limit of 1 holds: the planted take admits everything
        assert budget.used() == 1
    finally:
        budget.close()
