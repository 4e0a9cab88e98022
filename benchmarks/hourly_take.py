"""One hourly-budget take, client and server CPU: the take function (``workers._hourly``) against the three
statements it replaced, sent as one simple-protocol query as before, on the same server and connection pool.

Never asserted on timings (tests/workers/test_budgets.py and test_hourly.py pin what a take does).

.venv/bin/python benchmarks/hourly_take.py            # a throwaway server, 2,000 takes each, 3 rounds
.venv/bin/python benchmarks/hourly_take.py --url postgresql://...   # an empty database of yours
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import sys
from collections.abc import Callable
from pathlib import Path

import psycopg

from billing_milestones.workers import PostgresHourlyBudget
from billing_milestones.workers._hourly import _run

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_timeline import postgres_cpu, throwaway_postgres

_REPO = Path(__file__).resolve().parent.parent

#: The take as it was before the function (for comparison only): lock, forget what left the window, take one.
_THREE_STATEMENTS = """
SELECT pg_advisory_xact_lock(hashtext(%(key)s));
WITH gone AS (
    DELETE FROM bm_request_budget
    WHERE key = %(key)s AND at <= (SELECT extract(epoch FROM clock_timestamp()) - %(window)s)
    RETURNING 1)
UPDATE bm_request_budget_used SET used = used - (SELECT count(*) FROM gone)
WHERE key = %(key)s AND EXISTS (SELECT 1 FROM gone);
WITH clock AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS now),
     room AS (
         UPDATE bm_request_budget_used SET used = used + 1
         WHERE key = %(key)s AND used < %(limit)s
         RETURNING used),
     taken AS (
         INSERT INTO bm_request_budget (key, at)
         SELECT %(key)s, clock.now FROM clock, room
         RETURNING at)
SELECT (SELECT count(*) FROM taken) > 0,
       (SELECT at FROM bm_request_budget WHERE key = %(key)s ORDER BY at LIMIT 1),
       clock.now,
       EXISTS (SELECT 1 FROM bm_request_budget_used WHERE key = %(key)s)
FROM clock"""


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _measure(take: Callable[[], object], takes: int, port: int) -> tuple[float, float]:
    """Client and server CPU microseconds per take."""
    client, server = _cpu(), postgres_cpu(port)
    for _ in range(takes):
        take()
    return (_cpu() - client) / takes * 1e6, (postgres_cpu(port) - server) / takes * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="an empty postgresql:// database to use (default: a throwaway server)")
    parser.add_argument("--takes", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        url = args.url or stack.enter_context(throwaway_postgres())
        port = int(psycopg.conninfo.conninfo_to_dict(url).get("port") or 5432)
        budget = PostgresHourlyBudget(url, 10**9, key="bench")
        stack.callback(budget.close)
        budget.warm(1)

        def before() -> object:
            with budget._pool.get().connection() as conn:
                return _run(conn, _THREE_STATEMENTS, budget._args)

        for _ in range(50):  # both warmed: connections open, plans cached where they are
            budget.acquire()
            before()
        results: dict[str, list[tuple[float, float]]] = {"three statements": [], "take function": []}
        for _ in range(args.rounds):
            results["three statements"].append(_measure(before, args.takes, port))
            results["take function"].append(_measure(budget.acquire, args.takes, port))
        for name, rounds in results.items():
            client = sorted(c for c, _ in rounds)[len(rounds) // 2]
            server = sorted(s for _, s in rounds)[len(rounds) // 2]
            print(f"{name:17s} median of {args.rounds}: client {client:6.0f} us, server {server:6.0f} us a take")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
