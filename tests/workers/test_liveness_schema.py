"""The liveness table depends on nothing of procrastinate's: no foreign key to ``procrastinate_workers`` (a
future procrastinate migration may drop or rebuild that table), one of earlier releases dropped in place, and
the rows of workers procrastinate no longer knows deleted when a worker lists itself (what the cascade did)."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from billing_milestones.workers import WorkerApp

from .conftest import Deployment
from .test_liveness import queue

#: Foreign keys to procrastinate's workers table from tables that are not procrastinate's own.
_OUR_REFERENCES = """SELECT c.conrelid::regclass::text FROM pg_constraint c
WHERE c.contype = 'f' AND c.confrelid = 'procrastinate_workers'::regclass
  AND c.conrelid::regclass::text NOT LIKE 'procrastinate%'"""


def _rebuild_workers_table(links: str) -> None:
    """What a procrastinate migration rebuilding its workers table does, first dropping its own references
    to it (rolled back)."""
    with psycopg.connect(links) as conn:
        own = conn.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint"
            " WHERE contype = 'f' AND confrelid = 'procrastinate_workers'::regclass"
            " AND conrelid::regclass::text LIKE 'procrastinate%'"
        ).fetchall()
        for table, name in own:
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        conn.execute("DROP TABLE procrastinate_workers")  # no CASCADE: fails on any dependency left
        conn.rollback()


def _listed(links: str) -> set[int]:
    with psycopg.connect(links) as conn:
        return {int(row[0]) for row in conn.execute("SELECT worker_id FROM bm_worker_liveness").fetchall()}


def test_procrastinate_can_rebuild_its_workers_table_while_workers_are_listed(deployment: Deployment) -> None:
    async def scenario() -> None:
        async with queue(deployment) as workers:
            worker_id, _ = await workers.register()
            assert worker_id in _listed(deployment.links)
            with psycopg.connect(deployment.links) as conn:
                assert conn.execute(_OUR_REFERENCES).fetchall() == []
            _rebuild_workers_table(deployment.links)

    asyncio.run(scenario())


def test_a_liveness_table_made_with_the_foreign_key_loses_it_in_place(deployment: Deployment) -> None:
    async def scenario() -> None:
        async with queue(deployment) as workers:
            with psycopg.connect(deployment.links, autocommit=True) as conn:  # as earlier releases made it
                conn.execute(
                    "ALTER TABLE bm_worker_liveness ADD FOREIGN KEY (worker_id) REFERENCES procrastinate_workers(id)"
                    " ON DELETE CASCADE"
                )
            worker_id, _ = await workers.register()
            with pytest.raises(psycopg.errors.DependentObjectsStillExist):
                _rebuild_workers_table(deployment.links)
            await WorkerApp(deployment.settings()).prepare_async()  # the next worker to start
            with psycopg.connect(deployment.links) as conn:
                assert conn.execute(_OUR_REFERENCES).fetchall() == []
            assert worker_id in _listed(deployment.links)  # rows kept
            _rebuild_workers_table(deployment.links)

    asyncio.run(scenario())


def test_the_row_of_a_worker_procrastinate_pruned_goes_when_a_worker_lists_itself(deployment: Deployment) -> None:
    async def scenario() -> None:
        async with queue(deployment) as workers:
            pruned, _ = await workers.register()
            alive, _ = await workers.register()
            with psycopg.connect(deployment.links, autocommit=True) as conn:  # procrastinate's prune of a stalled one
                conn.execute("DELETE FROM procrastinate_workers WHERE id = %s", (pruned,))
            assert {pruned, alive} <= _listed(deployment.links)  # no cascade any more
            new, _ = await workers.register()
            assert _listed(deployment.links) == {alive, new}

    asyncio.run(scenario())
