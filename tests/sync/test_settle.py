"""A stopped run's pending writes are let to land before a rerun reads the target (sync/_settle.py).

A run killed mid-write leaves intents ``pending`` while its request may still be served; a rerun that listed
the target at once could miss what that request is about to store and create it again. Here: the wait, its
bound, and the library path's refusal, with an injected clock and sleep (nothing sleeps for real)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest

import billing_milestones
from billing_milestones import Platform, errors
from billing_milestones.errors import ConfigError, PendingWritesError
from billing_milestones.sync import DEFAULT_WRITE_SETTLE, LinkStore, _settle, apply_plan, plan_sync, settle_pending
from billing_milestones.sync.config import load_settings
from billing_milestones.sync.links import Intent

from .fakes import FakeView
from .test_plan import PAIR, src

STAMP = "2026-12-02T00:00:00.000+00:00"
T0 = dt.datetime.fromisoformat(STAMP).timestamp()


class Clock:
    """A wall clock that moves only when slept on; every sleep is noted with what had happened by then."""

    def __init__(self, at: float) -> None:
        self.at = at
        self.slept: list[float] = []

    def now(self) -> float:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.at += seconds


class Pending:
    def __init__(self, *stamps: str) -> None:
        self.intents = [Intent(i, "p", f"bm-{i}", "create", "pending", None, s, None) for i, s in enumerate(stamps)]

    def pending(self, pair_id: str | None = None) -> Sequence[Intent]:
        assert pair_id == "p"
        return self.intents


class Lease:
    def __init__(self) -> None:
        self.checked = 0

    def ensure(self) -> None:
        self.checked += 1


def test_the_default_window_is_the_default_timeouts_request_bound_plus_a_second() -> None:
    from billing_milestones._http._types import DEFAULT_TIMEOUT
    from billing_milestones.workers._budgets import request_bound

    assert DEFAULT_WRITE_SETTLE == request_bound(DEFAULT_TIMEOUT) + 1.0 == 96.0
    assert billing_milestones.settle_pending is settle_pending


def test_a_pending_write_one_second_old_is_waited_for_until_the_window_is_over() -> None:
    clock, lease = Clock(T0 + 1.0), Lease()
    waited = settle_pending(Pending(STAMP), "p", window=5.0, lease=lease, now=clock.now, sleep=clock.sleep)
    assert clock.slept == [4.0] and waited == 4.0 and lease.checked == 1


def test_the_youngest_pending_write_sets_the_wait() -> None:
    clock = Clock(T0 + 3.0)
    older = "2026-12-01T23:59:58.000+00:00"
    settle_pending(Pending(older, STAMP, older), "p", window=5.0, now=clock.now, sleep=clock.sleep)
    assert clock.slept == [2.0]


def test_a_clock_set_back_while_waiting_is_not_followed_past_the_limit() -> None:
    clock = Clock(T0 + 1.0)

    def sleep(seconds: float) -> None:
        clock.slept.append(seconds)
        clock.at -= 3600.0  # the wall clock stepped back an hour meanwhile

    settle_pending(Pending(STAMP), "p", window=5.0, now=clock.now, sleep=sleep)
    assert clock.slept == [4.0]  # what was decided before the wait, not an hour more


@pytest.mark.parametrize("pending", [Pending(), Pending(STAMP)])
def test_settled_or_no_pending_writes_are_not_waited_for(pending: Pending) -> None:
    clock, lease = Clock(T0 + 5.0), Lease()
    assert settle_pending(pending, "p", window=5.0, lease=lease, now=clock.now, sleep=clock.sleep) == 0.0
    assert clock.slept == [] and lease.checked == 0


def test_a_wait_longer_than_the_limit_is_refused_naming_pair_count_and_when() -> None:
    clock = Clock(T0 + 1.0)
    with pytest.raises(PendingWritesError) as info:
        settle_pending(Pending(STAMP, STAMP), "p", window=5.0, max_wait=3.0, now=clock.now, sleep=clock.sleep)
    exc = info.value
    assert clock.slept == [] and isinstance(exc, errors.PairBusyError)
    assert exc.pair_id == "p" and exc.pending == 2 and exc.settles_at == "2026-12-02T00:00:05Z"
    assert "pair p: 2 write(s)" in str(exc) and "2026-12-02T00:00:05Z" in str(exc)


def test_by_default_only_a_stamp_ahead_of_this_clock_by_more_than_the_grace_is_refused() -> None:
    ahead = Clock(T0 - 0.5)  # the writer's clock half a second ahead of ours: within the grace, waited
    settle_pending(Pending(STAMP), "p", window=5.0, now=ahead.now, sleep=ahead.sleep)
    assert ahead.slept == [5.5]
    with pytest.raises(PendingWritesError):
        settle_pending(Pending(STAMP), "p", window=5.0, now=Clock(T0 - 1.5).now, sleep=Clock(0).sleep)


def test_a_stamp_that_cannot_be_read_is_given_a_whole_window() -> None:
    clock = Clock(T0)
    settle_pending(Pending("not a time"), "p", window=5.0, now=clock.now, sleep=clock.sleep)
    assert clock.slept == [5.0]


def test_a_stamp_without_a_zone_is_read_as_utc() -> None:
    clock = Clock(T0 + 1.0)
    settle_pending(Pending("2026-12-02T00:00:00"), "p", window=5.0, now=clock.now, sleep=clock.sleep)
    assert clock.slept == [4.0]


# -- the library path: apply_plan taking the lease itself -----------------------------------------------------
def _crashed_store(stamp: str) -> LinkStore:
    store = LinkStore(":memory:")
    store.begin(PAIR.id, "bm-crashed", "create")
    store.backend.count("UPDATE intents SET created_at=?", (stamp,))
    return store


def test_apply_refuses_while_a_stopped_runs_write_is_younger_than_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock(T0 + 1.0)
    monkeypatch.setattr(_settle, "_wall", clock.now)
    monkeypatch.setattr(_settle, "_sleep", clock.sleep)
    store, target = _crashed_store(STAMP), FakeView(Platform.KANTATA)
    plan = plan_sync(PAIR, [src(1)], [], store)
    with pytest.raises(PendingWritesError, match="1 write"):
        apply_plan(plan, target, store, write_settle=5.0)
    assert (
        clock.slept == []
        and not any(target.data.values())
        and [i.sync_key for i in store.pending(PAIR.id)] == ["bm-crashed"]
    )
    clock.at = T0 + 5.0  # settled: the same plan applies and the stopped run's intent is closed
    assert apply_plan(plan, target, store, write_settle=5.0).ok
    assert sum(map(len, target.data.values())) == 1 and store.pending(PAIR.id) == []


@pytest.mark.parametrize(("age", "window"), [(4.5, 5.0), (10.0, None)])
def test_apply_does_not_wait_either_however_close_the_writes_are_to_settling(
    monkeypatch: pytest.MonkeyPatch, age: float, window: float | None
) -> None:
    """Half a second from settled (or ten seconds old under the default 96 s window): refused, not waited
    for, since the plan's listing was read before."""
    clock = Clock(T0 + age)
    monkeypatch.setattr(_settle, "_wall", clock.now)
    monkeypatch.setattr(_settle, "_sleep", clock.sleep)
    store, target = _crashed_store(STAMP), FakeView(Platform.KANTATA)
    with pytest.raises(PendingWritesError):
        plan = plan_sync(PAIR, [src(1)], [], store)
        apply_plan(plan, target, store) if window is None else apply_plan(plan, target, store, write_settle=window)
    assert clock.slept == [] and not any(target.data.values())


# -- config -------------------------------------------------------------------------------------------------
def _pair_config(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "milestones.toml"
    path.write_text(f'[pairs.a2k]\nsource = "autotask:77"\ntarget = "kantata:900"\n{extra}\n')
    return path


def test_write_settle_defaults_to_the_window_and_is_read_per_pair(tmp_path: Path) -> None:
    assert load_settings(_pair_config(tmp_path, ""), env={}).pair("a2k").write_settle == DEFAULT_WRITE_SETTLE
    assert load_settings(_pair_config(tmp_path, "write_settle = 2.5"), env={}).pair("a2k").write_settle == 2.5


@pytest.mark.parametrize("value", ["0", "-1", '"96"', "true", "3601", "nan", "inf"])
def test_a_bad_write_settle_is_a_config_error_naming_the_key(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match=r"pairs\.a2k\.write_settle: expected a number above 0") as info:
        load_settings(_pair_config(tmp_path, f"write_settle = {value}"), env={})
    assert info.value.key == "pairs.a2k.write_settle"


def test_httpx_default_timeout_is_what_the_window_was_worked_out_from() -> None:
    """The clients' default is ``httpx.Timeout(30.0, connect=5.0)``: 30 + 5 + 30 + 30 = 95 s."""
    from billing_milestones._http._types import DEFAULT_TIMEOUT

    assert httpx.Timeout(30.0, connect=5.0) == DEFAULT_TIMEOUT
