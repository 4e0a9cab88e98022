"""The run history's figures for each kind of run, on SQLite and on PostgreSQL (evidence: these hold).

One run that creates, updates, deletes, adopts and leaves a conflict counts each; a run killed after it took
the lease (its row opened, never ended: what SIGKILL or an OOM leaves) is closed by the pair's next run and by
no other pair's.
"""

from __future__ import annotations

from billing_milestones import Milestone, Money
from billing_milestones.sync import LinkStore
from billing_milestones.sync.runs import LOST_ERROR, OPEN_ERROR, RunLog

from .test_apply_runs import D, seeded, sync


def test_one_run_of_every_kind_of_write_counts_each(store_url: str) -> None:
    source, target, pair = seeded(4)
    with LinkStore(store_url) as store:
        sync(pair, source, target, store)
        src, tgt = source.data["77"], target.data["900"]
        (s0, s1, s2, _), (t0, *_) = list(src), list(tgt)
        src[s0] = src[s0].model_copy(update={"amount": Money("1.00", "USD")})  # both sides changed: conflict
        tgt[t0] = tgt[t0].model_copy(update={"amount": Money("2.00", "USD")})
        src[s1] = src[s1].model_copy(update={"amount": Money("999.00", "USD")})  # update
        del src[s2]  # delete
        twin = Milestone(title="Phase twin", amount=Money("5.00", "USD"), due=D)
        source.add("77", twin)
        target.add("900", twin)  # adopt
        for title in ("Phase new", "Phase newer"):  # two creates: each figure differs from the next
            source.add("77", Milestone(title=title, amount=Money("6.00", "USD"), due=D))
        sync(pair, source, target, store)
        latest, first = store.runs(pair.identity)
    assert (first.created, first.ok) == (4, True)
    figures = (latest.created, latest.updated, latest.deleted, latest.adopted, latest.conflicts)
    assert (
        figures == (2, 1, 1, 1, 1) and not latest.ok and latest.error == "1 finding(s) left (conflicts or duplicates)"
    )
    assert not latest.open and latest.started_at <= latest.finished_at


def test_a_killed_runs_row_is_closed_by_its_pairs_next_run_only(store_url: str) -> None:
    source, target, pair = seeded(2)
    with LinkStore(store_url) as store:
        RunLog(pair.identity, store=store).begin("host:1:killed")  # took the lease, then was killed
        RunLog("autotask:1->kantata:2", store=store).begin("host:2:running")  # another pair's run, still going
        killed, other = sorted((r for r in store.runs()), key=lambda r: r.worker)
        assert (killed.open, killed.ok, killed.error, other.open) == (True, False, OPEN_ERROR, True)
        sync(pair, source, target, store)
        latest, closed = store.runs(pair.identity)
        (still,) = store.runs("autotask:1->kantata:2")
    assert latest.ok and latest.created == 2 and closed.id == killed.id
    assert (closed.open, closed.ok, closed.error, closed.worker) == (False, False, LOST_ERROR, "host:1:killed")
    assert closed.started_at <= closed.finished_at <= latest.finished_at
    assert (still.open, still.error) == (True, OPEN_ERROR)  # not this pair's: it may still be running
