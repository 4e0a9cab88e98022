"""A write's check whose store statement is slow (sync/_write_check.py, _http/_before_send.py): the stamp is
timed from before the statement, so an attempt may leave only if that stamp is still fresh once the statement
has returned. A statement that took longer is made again before the attempt leaves, a few times at most; a
store that stays that slow stops the run as a lost lease would (nothing sent, the intents left pending)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from billing_milestones import errors
from billing_milestones._http import RequestSpec
from billing_milestones._http._before_send import asked, asked_async
from billing_milestones.sync import LinkStore
from billing_milestones.sync import _write_check as write_check
from billing_milestones.sync._write_check import FRESH, WriteCheck
from billing_milestones.sync.store._leased import restamp_leased

POST = RequestSpec("POST", "/things", json={"a": 1})
OLD = "2020-01-01T00:00:00.000+00:00"


def _slow_store(monkeypatch: pytest.MonkeyPatch, slow: int, took: float = 3 * FRESH) -> tuple[list[float], list[float]]:
    """The check's clock, and the moments its statements began; the first ``slow`` statements take ``took``."""
    now = [1000.0]
    began: list[float] = []
    monkeypatch.setattr(write_check, "_clock", lambda: now[0])

    def restamp(store: LinkStore, lease_id: str, owner: str, ttl: float, intents: tuple[int, ...]) -> bool:
        began.append(now[0])
        answer = restamp_leased(store, lease_id, owner, ttl, intents)
        if len(began) <= slow:
            now[0] += took  # e.g. waited for the store connection's lock, or a loaded server
        return answer

    monkeypatch.setattr(write_check, "restamp_leased", restamp)
    return now, began


def _intent(store: LinkStore) -> int:
    (k1,) = store.begin_many("p", [("k1", "create")])
    store._raw("UPDATE intents SET created_at=?", (OLD,))
    return k1


def _sync(check: WriteCheck) -> None:
    asked(check, POST)


def _async(check: WriteCheck) -> None:
    asyncio.run(asked_async(check, POST))


@pytest.mark.parametrize("ask", [_sync, _async], ids=["sync", "async"])
def test_a_slow_stamp_is_made_again_so_the_attempt_leaves_fresh(
    store_url: str, monkeypatch: pytest.MonkeyPatch, ask: Callable[[WriteCheck], None]
) -> None:
    now, began = _slow_store(monkeypatch, slow=1)
    with LinkStore(store_url) as store, store.lease("L") as lease:
        check = WriteCheck(lease, store, [_intent(store)], stamped=-1e9)
        ask(check)  # returns when the attempt may leave
        assert len(began) == 2  # the slow statement, then one that returned in time
        assert now[0] - began[-1] < FRESH  # the attempt leaves within FRESH of the stamp it goes out on
        assert check(POST) is None and lease.held


@pytest.mark.parametrize("ask", [_sync, _async], ids=["sync", "async"])
def test_a_store_that_stays_slow_stops_the_run_before_the_attempt(
    store_url: str, monkeypatch: pytest.MonkeyPatch, ask: Callable[[WriteCheck], None]
) -> None:
    _, began = _slow_store(monkeypatch, slow=1000)
    with LinkStore(store_url) as store, store.lease("L") as lease:
        check = WriteCheck(lease, store, [_intent(store)], stamped=-1e9)
        with pytest.raises(errors.LeaseLostError, match="took longer"):
            ask(check)
        assert len(began) == write_check.SLOW_TRIES
        assert not lease.held  # every later write of the run is refused without asking the store


@pytest.mark.parametrize(("took", "statements"), [(FRESH, 2), (FRESH * 0.99, 1)])
def test_a_stamp_exactly_fresh_old_when_its_statement_returns_is_made_again(
    store_url: str, monkeypatch: pytest.MonkeyPatch, took: float, statements: int
) -> None:
    _, began = _slow_store(monkeypatch, slow=1, took=took)  # the first returns ``took`` after its stamp
    with LinkStore(store_url) as store, store.lease("L") as lease:
        WriteCheck(lease, store, [_intent(store)], stamped=-1e9).confirm()
        assert len(began) == statements and lease.held
