"""``prune_runs``: old finished runs go; each pair's newest run and every link stay; an open run older than
the cutoff, of a pair with no live lease (so not running, and not run since), is closed as lost."""

from __future__ import annotations

import datetime as dt

import pytest

from billing_milestones.errors import ValidationError
from billing_milestones.sync import Link, LinkStore, PruneResult, prune_runs
from billing_milestones.sync._prune_runs import PRUNE_CLOSED_ERROR


def _ago(days: float) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat(timespec="milliseconds")


def _run(store: LinkStore, pair: str, ended_days_ago: float | None, started_days_ago: float = 400) -> int:
    finished = "" if ended_days_ago is None else _ago(ended_days_ago)
    (row,) = store._raw(
        "INSERT INTO runs (pair_id, worker, started_at, finished_at, ok) VALUES (?, 'w', ?, ?, 1) RETURNING id",
        (pair, _ago(started_days_ago), finished),
    )
    return int(row["id"])


def _ids(store: LinkStore) -> set[int]:
    return {int(row["id"]) for row in store._raw("SELECT id FROM runs")}


def test_old_finished_runs_go_and_open_runs_each_pairs_newest_and_links_stay(store_url: str) -> None:
    with LinkStore(store_url) as store:
        store.put(Link("a", "k", "s", "t", "f1", "f2"))
        a_old = [_run(store, "a", 90), _run(store, "a", 60), _run(store, "a", 31)]
        a_new = _run(store, "a", 5)
        b_old, b_newest = _run(store, "b", 200), _run(store, "b", 100)  # b's newest is old: kept
        c_open = _run(store, "c", None, started_days_ago=1)  # running, or killed: its next run closes it
        c_old, c_new = _run(store, "c", 45), _run(store, "c", 2)  # the open one is not c's newest
        assert prune_runs(store, older_than_days=30) == PruneResult(deleted=5, closed=0)
        assert _ids(store) == {a_new, b_newest, c_open, c_new}
        assert not _ids(store) & {*a_old, b_old, c_old}
        assert [ln.sync_key for ln in store.links("a")] == ["k"]
        assert prune_runs(store, older_than_days=30) == PruneResult(0, 0)  # nothing left that old


def test_one_pairs_runs_only(store_url: str) -> None:
    with LinkStore(store_url) as store:
        a = [_run(store, "a", 90), _run(store, "a", 1)]
        b = [_run(store, "b", 90), _run(store, "b", 1)]
        assert prune_runs(store, older_than_days=30, pair_id="a").deleted == 1
        assert _ids(store) == {a[1], *b}


@pytest.mark.parametrize("days", [-1, float("nan"), float("inf"), True, "30", None])
def test_a_cutoff_that_is_not_a_number_of_days_is_refused_by_name(store_url: str, days: object) -> None:
    with LinkStore(store_url) as store:
        _run(store, "a", 90)
        _run(store, "a", 1)
        with pytest.raises(ValidationError, match="older_than_days") as info:
            prune_runs(store, older_than_days=days, pair_id=None)  # type: ignore[arg-type]
        assert info.value.field == "older_than_days" and len(_ids(store)) == 2


def test_a_cutoff_before_any_date_forgets_nothing(store_url: str) -> None:
    with LinkStore(store_url) as store:
        _run(store, "a", 90)
        _run(store, "a", 1)
        assert prune_runs(store, older_than_days=10**12) == PruneResult(0, 0) and len(_ids(store)) == 2


def test_an_old_open_run_of_a_pair_not_run_since_is_closed_as_lost_unless_its_pair_is_leased(store_url: str) -> None:
    """A pair taken out of the config after its run was killed: no next run closes the row, which read as
    running for good. One whose pair holds a live lease (a run going on) is left to that run."""
    with LinkStore(store_url) as store:
        gone = _run(store, "gone", None, started_days_ago=60)
        recent = _run(store, "recent", None, started_days_ago=1)
        leased = _run(store, "leased", None, started_days_ago=60)
        with store.lease("leased", wait=0):
            assert prune_runs(store, older_than_days=30) == PruneResult(deleted=0, closed=1)
        rows = {int(r["id"]): dict(r) for r in store._raw("SELECT id, finished_at, ok, error FROM runs")}
        assert rows[gone]["finished_at"] and rows[gone]["ok"] == 0 and rows[gone]["error"] == PRUNE_CLOSED_ERROR
        assert rows[recent]["finished_at"] == "" == rows[leased]["finished_at"]
        (run,) = store.runs("gone")
        assert run.ok is False and run.error == PRUNE_CLOSED_ERROR
        assert prune_runs(store, older_than_days=30, pair_id="recent") == PruneResult(0, 0)
