"""The per-attempt lease check of a write (sync/_write_check.py, store._leased.restamp_leased), on both stores:
one statement renews the lease and re-stamps the write's intents, only while the lease is the writer's; a
rerun that took the lease after a stamp waits a settle window from it; a stamp after a takeover fails."""

from __future__ import annotations

import pytest

from billing_milestones import errors
from billing_milestones._http import RequestSpec
from billing_milestones.sync import LinkStore
from billing_milestones.sync import _write_check as write_check
from billing_milestones.sync._settle import DEFAULT_WRITE_SETTLE, SETTLE_GRACE, settle_pending
from billing_milestones.sync._write_check import FRESH, WriteCheck
from billing_milestones.sync.store._leased import restamp_leased

from ._round_trips import CountingBackend

OLD = "2020-01-01T00:00:00.000+00:00"
POST = RequestSpec("POST", "/things", json={"a": 1})


def _stamps(store: LinkStore) -> dict[str, str]:
    return {str(r["sync_key"]): str(r["created_at"]) for r in store._raw("SELECT sync_key, created_at FROM intents")}


def _old_intents(store: LinkStore, *keys: str) -> list[int]:
    ids = store.begin_many("p", [(key, "create") for key in keys])
    store._raw("UPDATE intents SET created_at=?", (OLD,))
    return ids


def _take_over(store: LinkStore, lease_id: str) -> None:
    """Another run takes the lease as a rerun does once the holder's session is gone (here: it expired)."""
    store._raw("UPDATE leases SET expires_at=1 WHERE pair_id=?", (lease_id,))
    assert store.try_lease(lease_id, "rerun", ttl=60).owner == "rerun"


def test_restamp_renews_the_lease_and_moves_the_pending_intents_stamps(store_url: str) -> None:
    with LinkStore(store_url) as store:
        store.try_lease("L", "a", ttl=5)
        before = float(store._raw("SELECT expires_at FROM leases")[0]["expires_at"])
        k1, _, k3 = _old_intents(store, "k1", "k2", "k3")
        store.finish(k3)
        assert restamp_leased(store, "L", "a", 60, [k1, k3]) is True
        stamps = _stamps(store)
        assert stamps["k1"] > OLD and stamps["k2"] == OLD and stamps["k3"] == OLD  # only the pending ones given
        assert float(store._raw("SELECT expires_at FROM leases")[0]["expires_at"]) > before + 50
        assert restamp_leased(store, "L", "a", 60, []) is True  # no intent: the lease confirmed alone


def test_restamp_stamps_nothing_for_a_lease_taken_over_or_expired(store_url: str) -> None:
    with LinkStore(store_url) as store:
        store.try_lease("L", "a", ttl=60)
        (k1,) = _old_intents(store, "k1")
        assert restamp_leased(store, "L", "b", 60, [k1]) is False  # another owner's
        store._raw("UPDATE leases SET expires_at=1")
        assert restamp_leased(store, "L", "a", 60, [k1]) is False  # expired, not yet taken
        _take_over(store, "L")
        assert restamp_leased(store, "L", "a", 60, [k1]) is False  # taken
        assert _stamps(store) == {"k1": OLD}
        holder = store.lease_holder("L")
        assert holder is not None and holder.owner == "rerun"


def test_stamp_then_takeover_the_rerun_waits_a_window_from_the_stamp(store_url: str) -> None:
    """The race's first order: the writer's check stamps, a rerun takes the lease over, then the writer
    sends. The rerun's settle check reads the fresh stamp and will not list the target for a window."""
    with LinkStore(store_url) as store, store.lease("L") as lease:
        (k1,) = _old_intents(store, "k1")
        assert settle_pending(store, "p", max_wait=0.0) == 0.0  # the old stamp alone: nothing to wait for
        WriteCheck(lease, store, [k1], stamped=-1e9).confirm()
        _take_over(store, "L")
        with pytest.raises(errors.PendingWritesError) as refused:
            settle_pending(store, "p", max_wait=0.0)
        assert refused.value.pending == 1
        waits: list[float] = []
        settle_pending(store, "p", sleep=waits.append)
        assert len(waits) == 1 and DEFAULT_WRITE_SETTLE - 30 < waits[0] <= DEFAULT_WRITE_SETTLE


def test_takeover_then_stamp_the_check_refuses_and_the_lease_is_known_lost(store_url: str) -> None:
    """The race's other order: a rerun took the lease first; the writer's check stamps nothing and raises,
    and from then on the run's lease is lost for every later write, without asking the store."""
    with LinkStore(store_url) as store, store.lease("L") as lease:
        (k1,) = _old_intents(store, "k1")
        check = WriteCheck(lease, store, [k1], stamped=-1e9)
        _take_over(store, "L")
        step = check(POST)
        assert step is not None
        with pytest.raises(errors.LeaseLostError):
            step.call()
        assert _stamps(store) == {"k1": OLD} and not lease.held
        counting = CountingBackend(store.backend)
        store.backend = counting
        fresh = WriteCheck(lease, store, [k1], stamped=write_check.stamp_time())
        with pytest.raises(errors.LeaseLostError):
            fresh(POST)  # a fresh stamp does not vouch for a lease known lost
        store.backend = counting.inner
        assert counting.calls == 0


def test_a_fresh_stamp_asks_nothing_a_stale_one_one_statement(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(write_check, "_clock", lambda: now[0])
    with LinkStore(store_url) as store, store.lease("L") as lease:
        (k1,) = _old_intents(store, "k1")
        check = WriteCheck(lease, store, [k1], stamped=write_check.stamp_time())
        counting = CountingBackend(store.backend)
        store.backend = counting
        now[0] += FRESH * 0.9
        assert check(POST) is None  # right after the statement that recorded (and stamped) the intent
        now[0] += FRESH * 0.2
        step = check(POST)  # a wait since: one statement first
        assert step is not None
        step.call()
        assert check(POST) is None  # just stamped again
        now[0] += FRESH
        assert check(POST) is not None  # FRESH seconds on: no longer fresh
        store.backend = counting.inner
        assert counting.calls == (1 if store.kind == "postgresql" else 2)
        assert _stamps(store)["k1"] > OLD


def test_a_check_that_cannot_reach_the_store_refuses_as_the_heartbeat_would(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(*args: object) -> bool:
        raise ConnectionError("the store cannot be reached")

    with LinkStore(store_url) as store, store.lease("L") as lease:
        (k1,) = _old_intents(store, "k1")
        monkeypatch.setattr(write_check, "restamp_leased", unreachable)
        with pytest.raises(errors.LeaseLostError) as lost:
            WriteCheck(lease, store, [k1], stamped=-1e9).confirm()
        assert isinstance(lost.value.__context__, ConnectionError) and not lease.held


def test_freshness_is_half_the_settle_grace_the_other_half_left_for_clock_skew() -> None:
    assert FRESH == SETTLE_GRACE / 2 == 0.5
