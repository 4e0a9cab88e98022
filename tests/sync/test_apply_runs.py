"""Every applying run leaves one row in the run history and one structured log record."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

import pytest

from billing_milestones import Milestone, Money, Platform, errors
from billing_milestones.sync import LinkStore, SyncPair, apply_plan, load_sides, plan_sync

from .fakes import FakeView

D = dt.date(2026, 12, 1)
T = TypeVar("T")


def seeded(n: int) -> tuple[FakeView, FakeView, SyncPair]:
    source, target = FakeView(Platform.AUTOTASK), FakeView(Platform.KANTATA)
    for i in range(n):
        source.add("77", Milestone(title=f"Phase {i}", amount=Money(f"{100 + i}.25", "USD"), due=D))
    return source, target, SyncPair(Platform.AUTOTASK, "77", Platform.KANTATA, "900")


def sync(pair: SyncPair, source: FakeView, target: FakeView, store: LinkStore, **kw: object) -> object:
    views = {Platform.AUTOTASK: source, Platform.KANTATA: target}
    src, tgt = load_sides(pair, views)
    return apply_plan(plan_sync(pair, src, tgt, store), views, store, **kw)  # type: ignore[arg-type]


def test_a_run_records_who_ran_it_when_and_what_it_wrote() -> None:
    source, target, pair = seeded(4)
    store = LinkStore(":memory:")
    sync(pair, source, target, store)
    (first,) = store.runs(pair.id)
    assert (first.created, first.updated, first.deleted, first.adopted, first.conflicts) == (4, 0, 0, 0, 0)
    assert first.ok and first.error is None and first.started_at <= first.finished_at
    host, pid, _run = first.worker.split(":")
    assert host and pid.isdigit()
    # Change the source: one updated, one deleted, and one new that the target already holds (adopted).
    box = source.data["77"]
    key0, key1 = list(box)[:2]
    box[key0] = box[key0].model_copy(update={"amount": Money("999.00", "USD")})
    del box[key1]
    twin = Milestone(title="Phase new", amount=Money("5.00", "USD"), due=D)
    source.add("77", twin)
    target.add("900", twin)
    sync(pair, source, target, store)
    latest, older = store.runs(pair.id)
    assert (latest.created, latest.updated, latest.deleted, latest.adopted) == (0, 1, 1, 1)
    assert latest.id > older.id == first.id
    assert store.runs("other") == [] and len(store.runs()) == 2 and len(store.runs(limit=1)) == 1


def test_a_dry_run_is_not_a_run() -> None:
    source, target, pair = seeded(2)
    store = LinkStore(":memory:")
    sync(pair, source, target, store, dry_run=True)
    assert store.runs() == []


def test_a_run_with_failed_writes_is_recorded_as_failed_with_the_first_error() -> None:
    source, target, pair = seeded(2)
    store = LinkStore(":memory:")
    target.fail["create"] = errors.BadRequestError(
        "refused", platform="kantata", method="POST", path="/x", status_code=400
    )
    sync(pair, source, target, store)
    (run,) = store.runs(pair.id)
    assert not run.ok and run.created == 0
    assert run.error is not None and run.error.startswith("2 write(s) failed; first: ") and "refused" in run.error


def test_a_run_that_raises_is_recorded_with_its_error_and_still_raises() -> None:
    source, target, pair = seeded(2)
    store = LinkStore(":memory:")
    views = {Platform.AUTOTASK: source, Platform.KANTATA: target}
    src, tgt = load_sides(pair, views)
    plan = plan_sync(pair, src, tgt, store)
    sync(pair, source, target, store)  # another run applied in between: the plan is stale
    with pytest.raises(errors.StalePlanError):
        apply_plan(plan, views, store)
    latest, _ = store.runs(pair.id)
    assert not latest.ok and latest.error is not None and latest.error.startswith("StalePlanError: pair ")


def test_a_run_with_conflicts_left_counts_them_and_is_not_ok() -> None:
    source, target, pair = seeded(1)
    store = LinkStore(":memory:")
    sync(pair, source, target, store)
    (skey,) = source.data["77"]
    (tkey,) = target.data["900"]
    source.data["77"][skey] = source.data["77"][skey].model_copy(update={"amount": Money("1.00", "USD")})
    target.data["900"][tkey] = target.data["900"][tkey].model_copy(update={"amount": Money("2.00", "USD")})
    sync(pair, source, target, store)
    latest = store.runs(pair.id)[0]
    assert latest.conflicts == 1 and not latest.ok and latest.error == "1 finding(s) left (conflicts or duplicates)"


def test_each_run_is_logged_as_a_structured_record(caplog: pytest.LogCaptureFixture) -> None:
    source, target, pair = seeded(3)
    store = LinkStore(":memory:")
    with caplog.at_level(logging.INFO, logger="billing_milestones.sync"):
        sync(pair, source, target, store)
    (record,) = [r for r in caplog.records if getattr(r, "bm_event", None) == "sync_run"]
    fields = record.__dict__
    assert fields["bm_pair"] == pair.id and fields["bm_created"] == 3 and fields["bm_ok"] is True
    assert fields["bm_actions"] == 3 and fields["bm_duration_s"] >= 0 and record.levelno == logging.INFO
    assert fields["bm_worker"] == store.runs()[0].worker
    assert "created 3" in record.getMessage()


def test_a_store_that_cannot_take_the_row_does_not_hide_the_run(caplog: pytest.LogCaptureFixture) -> None:
    source, target, pair = seeded(1)
    store = LinkStore(":memory:")

    backend = store.backend
    rows, count = backend.rows, backend.count

    def refusing(run: Callable[[str, Sequence[object]], T]) -> Callable[[str, Sequence[object]], T]:
        def statement(sql: str, args: Sequence[object] = ()) -> T:
            if "runs" in sql.split():  # the row opened at the start and its end: both refused
                raise OSError("disk full")
            return run(sql, args)

        return statement

    backend.rows, backend.count = refusing(rows), refusing(count)  # type: ignore[method-assign,assignment]
    with caplog.at_level(logging.WARNING, logger="billing_milestones.sync"):
        result = sync(pair, source, target, store)
    assert result.ok  # type: ignore[attr-defined]
    assert any("could not be recorded" in r.getMessage() and "disk full" in r.getMessage() for r in caplog.records)


def test_the_worker_is_the_lease_owner_the_caller_took() -> None:
    source, target, pair = seeded(1)
    store = LinkStore(":memory:")
    with store.lease(pair.identity, owner="worker-7") as lease:
        sync(pair, source, target, store, lease=lease)
    assert store.runs()[0].worker == "worker-7"


def test_a_run_stopped_mid_apply_counts_the_writes_it_did() -> None:
    # Ctrl-C (here from the progress bar's callback) after the third create was linked: its row says so.
    source, target, pair = seeded(3)
    store = LinkStore(":memory:")
    done: list[object] = []

    def progress(r: object) -> None:
        done.append(r)
        if len(done) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sync(pair, source, target, store, progress=progress)
    (run,) = store.runs(pair.id)
    assert (run.created, run.ok, run.open) == (3, False, False) and run.error == "KeyboardInterrupt: "
    assert len(target.data["900"]) == 3 and len(store.links(pair.id)) == 3


def test_a_run_whose_lease_is_taken_over_mid_apply_counts_the_updates_it_did() -> None:
    source, target, pair = seeded(2)
    store = LinkStore(":memory:")
    sync(pair, source, target, store)
    box = source.data["77"]
    for key in list(box):
        box[key] = box[key].model_copy(update={"amount": Money("999.00", "USD")})
    source.add("77", Milestone(title="Phase new", amount=Money("5.00", "USD"), due=D))
    updates: list[object] = []

    def take_over(r: object) -> None:  # after both updates, another run takes the pair: no create is begun
        updates.append(r)
        if len(updates) == 2:
            store.release_lease(pair.identity, lease.owner)
            assert store.try_lease(pair.identity, "other-run", 60.0).owner == "other-run"

    with store.lease(pair.identity) as lease, pytest.raises(errors.LeaseLostError):
        sync(pair, source, target, store, lease=lease, progress=take_over)
    latest = store.runs(pair.id)[0]
    assert (latest.updated, latest.created, latest.ok) == (2, 0, False)
    assert latest.error is not None and latest.error.startswith("LeaseLostError: ")
    assert len(target.data["900"]) == 2
