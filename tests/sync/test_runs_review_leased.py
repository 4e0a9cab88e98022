"""A run whose row is opened when it takes the lease (``leased_run``): open while it lists, one row with the
apply under it, and its first error kept. Both backends."""

from __future__ import annotations

import pytest

from billing_milestones import Platform
from billing_milestones.sync import LinkStore, apply_plan, load_sides, plan_sync
from billing_milestones.sync.runs import OPEN_ERROR, leased_run

from .test_apply_runs import seeded


def test_the_row_is_open_while_the_run_lists_and_the_apply_under_the_lease_completes_it(store_url: str) -> None:
    source, target, pair = seeded(3)
    views = {Platform.AUTOTASK: source, Platform.KANTATA: target}
    with LinkStore(store_url) as store, LinkStore(store_url) as watcher:
        with store.lease(pair.identity, owner="host:1:run") as lease, leased_run(store, pair.identity, lease):
            (listing,) = watcher.runs(pair.identity)  # what a worker killed here leaves
            src, tgt = load_sides(pair, views)
            apply_plan(plan_sync(pair, src, tgt, store), views, store, lease=lease)
        (done,) = watcher.runs(pair.identity)
    assert (listing.open, listing.error, listing.worker) == (True, OPEN_ERROR, "host:1:run")
    assert (done.id, done.created, done.ok, done.open, done.error) == (listing.id, 3, True, False, None)
    assert done.started_at == listing.started_at <= done.finished_at


def test_a_run_stopped_in_its_apply_keeps_that_error_whatever_its_caller_raises_then(store_url: str) -> None:
    source, target, pair = seeded(2)
    views = {Platform.AUTOTASK: source, Platform.KANTATA: target}

    def stop(_: object) -> None:
        raise KeyboardInterrupt

    with LinkStore(store_url) as store:
        with pytest.raises(SystemExit), store.lease(pair.identity) as lease, leased_run(store, pair.identity, lease):
            src, tgt = load_sides(pair, views)
            try:
                apply_plan(plan_sync(pair, src, tgt, store), views, store, lease=lease, progress=stop)
            except KeyboardInterrupt:
                raise SystemExit(130) from None  # as the CLI turns Ctrl-C into its exit
        (run,) = store.runs(pair.identity)
    assert (run.created, run.ok, run.open, run.error) == (1, False, False, "KeyboardInterrupt: ")
