"""A slot take interrupted after the server committed it (Ctrl-C in a notebook, between the statement and its
return) does not leave the slot held for as long as the pool keeps that connection alive: the connection is
closed, so its backend ends and the slot frees at its lease, as a dead holder's does. The same for
a release interrupted before it was sent."""

from __future__ import annotations

import psycopg
import pytest

from billing_milestones.workers import PostgresLimiter
from billing_milestones.workers._hold_spans import HoldSpans

from ._waiting import wait_for

_HOLDERS = "SELECT pid FROM bm_request_slots WHERE holder IS NOT NULL"
_ALIVE = "SELECT count(*) FROM pg_stat_activity WHERE pid = %s"


def test_an_interrupted_take_leaves_no_live_holder(
    url: str, limiters: list[PostgresLimiter], monkeypatch: pytest.MonkeyPatch
) -> None:
    limiter = PostgresLimiter(url, 1, namespace="interrupted", timeout=0.25)
    limiters.append(limiter)
    with limiter("k"):
        pass  # the table and the key's slot row exist
    take = limiter._take

    def interrupted(conn: psycopg.Connection[tuple[object, ...]], name: str) -> tuple[int, int]:
        take(conn, name)  # committed (autocommit): this connection's backend holds the slot
        raise KeyboardInterrupt

    monkeypatch.setattr(limiter, "_take", interrupted)
    with pytest.raises(KeyboardInterrupt), limiter("k"):
        pass
    monkeypatch.undo()
    with psycopg.connect(url, autocommit=True) as look:
        row = look.execute(_HOLDERS).fetchone()
        assert row is not None
        (holder,) = row
        wait_for(lambda: look.execute(_ALIVE, (holder,)).fetchone() == (0,), what="the holder's backend to end")
    with limiter("k"):  # taken again once its lease (a timeout bound plus a second) has run out
        pass


def test_a_release_interrupted_before_it_was_sent_leaves_no_live_holder(
    url: str, limiters: list[PostgresLimiter], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C between the request and the release (here: while the hold's length is recorded) left the slot held
    by the pooled connection's live backend, past its lease, until the pool dropped that connection."""
    limiter = PostgresLimiter(url, 1, namespace="interrupted-release", timeout=0.25)
    limiters.append(limiter)
    with limiter("k"):
        pass  # the table and the key's slot row exist

    def interrupted(spans: HoldSpans, seconds: float, key: str = "") -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(HoldSpans, "record", interrupted)
    with pytest.raises(KeyboardInterrupt), limiter("k"):
        pass
    monkeypatch.undo()
    with psycopg.connect(url, autocommit=True) as look:
        row = look.execute(_HOLDERS).fetchone()
        assert row is not None  # the release was never sent
        (holder,) = row
        wait_for(lambda: look.execute(_ALIVE, (holder,)).fetchone() == (0,), what="the holder's backend to end")
    with limiter("k"):  # taken again once its lease (a timeout bound plus a second) has run out
        pass
