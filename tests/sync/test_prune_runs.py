"""``prune_runs``: old finished runs go; runs still open, each pair's newest run, and every link stay."""

from __future__ import annotations

import datetime as dt

import pytest

from billing_milestones.errors import ValidationError
from billing_milestones.sync import Link, LinkStore, prune_runs


def _ago(days: float) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat(timespec="milliseconds")


def _run(store: LinkStore, pair: str, ended_days_ago: float | None) -> int:
    finished = "" if ended_days_ago is None else _ago(ended_days_ago)
    (row,) = store._raw(
        "INSERT INTO runs (pair_id, worker, started_at, finished_at, ok) VALUES (?, 'w', ?, ?, 1) RETURNING id",
        (pair, _ago(400), finished),
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
        c_open = _run(store, "c", None)  # killed, not closed yet: its next run closes it as lost
        c_old, c_new = _run(store, "c", 45), _run(store, "c", 2)  # the open one is not c's newest
        assert prune_runs(store, older_than_days=30) == 5
        assert _ids(store) == {a_new, b_newest, c_open, c_new}
        assert not _ids(store) & {*a_old, b_old, c_old}
        assert [ln.sync_key for ln in store.links("a")] == ["k"]
        assert prune_runs(store, older_than_days=30) == 0  # nothing left that old


def test_one_pairs_runs_only(store_url: str) -> None:
    with LinkStore(store_url) as store:
        a = [_run(store, "a", 90), _run(store, "a", 1)]
        b = [_run(store, "b", 90), _run(store, "b", 1)]
        assert prune_runs(store, older_than_days=30, pair_id="a") == 1
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
        assert prune_runs(store, older_than_days=10**12) == 0 and len(_ids(store)) == 2
