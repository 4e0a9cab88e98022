"""A run whose link store session ends mid-run is not lost from the history, nor left open for good.

The store session is cut with ``pg_terminate_backend`` on the real server while the run writes to the
target: the run cannot write its end on that session. Its row was written when it took the lease, so the
history shows it (failed, open) and the pair's next run closes it, as it closes the row of a worker killed
mid-run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import psycopg
import pytest

from billing_milestones import Milestone, Platform
from billing_milestones.sync import LinkStore, apply_plan, load_sides, plan_sync
from billing_milestones.sync.runs import LOST_ERROR, OPEN_ERROR

from .._postgres import PostgresServer, fresh_database
from .fakes import FakeView
from .test_apply_runs import seeded


def _cut_during_create(target: FakeView, url: str, store: LinkStore) -> None:
    """The target's create ends the store's session on the server first (as a restart or a network cut would)."""
    pid = store.backend.conn.info.backend_pid  # type: ignore[attr-defined]
    real = target.create

    def create(container: str, milestones: Sequence[Milestone]) -> list[Milestone]:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        return real(container, milestones)

    target.create = create  # type: ignore[method-assign,assignment]


def test_a_run_whose_store_session_ends_mid_run_stays_in_the_history_and_the_next_run_closes_it(
    postgres_server: PostgresServer,
) -> None:
    url = fresh_database(postgres_server)
    source, target, pair = seeded(3)
    views = {Platform.AUTOTASK: source, Platform.KANTATA: target}
    store = LinkStore(url)
    src, tgt = load_sides(pair, views)
    plan = plan_sync(pair, src, tgt, store)
    _cut_during_create(target, url, store)
    with pytest.raises(psycopg.OperationalError):
        apply_plan(plan, views, store)
    watcher = LinkStore(url)
    (cut,) = watcher.runs(pair.id)  # was lost: no row at all
    assert cut.finished_at == "" and not cut.ok and cut.error == OPEN_ERROR and cut.worker.count(":") == 2
    # The pair's next run (on a new session: the lease of the cut one is taken over at once) closes it.
    target.create = FakeView.create.__get__(target)  # type: ignore[method-assign]
    src, tgt = load_sides(pair, views)
    again = apply_plan(plan_sync(pair, src, tgt, watcher), views, watcher, write_settle=0)
    assert again.ok
    latest, closed = watcher.runs(pair.id)
    assert latest.ok and latest.finished_at >= latest.started_at and latest.error is None
    assert closed.id == cut.id and not closed.ok and closed.error == LOST_ERROR
    assert closed.finished_at >= closed.started_at and closed.worker == cut.worker
    watcher.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_runs_row_is_open_while_it_runs_and_holds_its_end_after(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        str(tmp_path / "links.sqlite3")
        if kind == "sqlite"
        else fresh_database(request.getfixturevalue("postgres_server"))
    )
    source, target, pair = seeded(2)
    views = {Platform.AUTOTASK: source, Platform.KANTATA: target}
    store, watcher = LinkStore(url), LinkStore(url)
    seen: list[tuple[str, bool, str | None]] = []
    real = target.create

    def create(container: str, milestones: Sequence[Milestone]) -> list[Milestone]:
        row = watcher.runs(pair.id)[0]  # the newest
        seen.append((row.finished_at, row.ok, row.error))
        return real(container, milestones)

    target.create = create  # type: ignore[method-assign,assignment]
    src, tgt = load_sides(pair, views)
    with store.lease(pair.identity, owner="host:1:run") as lease:
        apply_plan(plan_sync(pair, src, tgt, store), views, store, lease=lease)
    assert seen == [("", False, OPEN_ERROR)]  # the row was open (and failed unless it ends) while it wrote
    (done,) = watcher.runs(pair.id)  # the same row holds the end: one row a run
    assert done.ok and done.created == 2 and done.worker == "host:1:run" and done.finished_at >= done.started_at
    # A later run closes no finished row, and only its own pair's open rows.
    source.add("77", source.data["77"][next(iter(source.data["77"]))].model_copy(update={"title": "Other"}))
    src, tgt = load_sides(pair, views)
    apply_plan(plan_sync(pair, src, tgt, store), views, store)
    assert seen[1] == ("", False, OPEN_ERROR)
    assert [(r.ok, r.error) for r in watcher.runs(pair.id)] == [(True, None), (True, None)]
    store.close()
    watcher.close()
