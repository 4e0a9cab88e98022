"""A run's start closes its pair's rows left open (``sync.runs``): on a store whose history has grown (a pair
run every 15 minutes writes 35,000 rows a year, and nothing prunes them) that statement goes through the
partial index of open rows, on both backends. It scanned the whole table on PostgreSQL (8 ms at 100,000 rows,
growing with every run) and the pair's every row on SQLite."""

from __future__ import annotations

from billing_milestones.sync import LinkStore
from billing_milestones.sync.runs import _CLOSE_LOST

HISTORY = 5_000


def _plan(store: LinkStore, pair: str) -> str:
    explain = "EXPLAIN" if store.kind == "postgresql" else "EXPLAIN QUERY PLAN"
    rows = store._raw(f"{explain} {_CLOSE_LOST}", ("now", "lost", pair))
    return "\n".join(" ".join(str(v) for v in dict(row).values()) for row in rows)


def test_closing_a_pairs_open_runs_reads_the_open_rows_only(store_url: str) -> None:
    with LinkStore(store_url) as store:
        store._raw(
            "INSERT INTO runs (pair_id, worker, started_at, finished_at, ok) "
            + (
                "SELECT 'p' || (g %% 4), 'w', '2026-01-01', '2026-01-01', 1 FROM generate_series(1, ?) AS g"
                if store.kind == "postgresql"
                else "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?) "
                "SELECT 'p' || (n % 4), 'w', '2026-01-01', '2026-01-01', 1 FROM g"
            ),
            (HISTORY,),
        )
        store._raw("ANALYZE runs")
        plan = _plan(store, "p1")
        assert "runs_open" in plan, plan
