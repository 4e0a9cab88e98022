"""The numbers docs/scale.md gives for how locks, budgets and workers behave are the code's: each phrase of
the page is pinned to the constant or default that makes it true, so a change to either fails here."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import typer

from billing_milestones._metadata_cache import DEFAULT_TTL
from billing_milestones.cli import app
from billing_milestones.sync._settle import DEFAULT_WRITE_SETTLE
from billing_milestones.sync.lease import DEFAULT_LEASE_TTL
from billing_milestones.sync.store._url import KEEPALIVES
from billing_milestones.workers import PostgresLimiter
from billing_milestones.workers._hold_spans import FACTOR, KEPT, SEEN
from billing_milestones.workers._liveness import GRACE, LOOK_EVERY
from billing_milestones.workers._timing import JOB_LOGGER
from billing_milestones.workers._worker import SWITCH_INTERVAL

PAGE = " ".join((Path(__file__).resolve().parents[2] / "docs" / "scale.md").read_text(encoding="utf-8").split())


def option_default(command: str, name: str) -> object:
    (param,) = (p for p in typer.main.get_command(app).commands[command].params if p.name == name)  # type: ignore[attr-defined]
    return param.default


def limiter_default(name: str) -> object:
    return inspect.signature(PostgresLimiter).parameters[name].default


PINNED = [
    ("Every worker looks five times a second", LOOK_EVERY == 0.2),
    ("whose lock has been free for 0.3 s", GRACE == 0.3),
    ("(60 s, renewed every 20 s)", DEFAULT_LEASE_TTL == 60),
    ("`write_settle` seconds old: 96 s by default", DEFAULT_WRITE_SETTLE == 96),
    ("A worker's first eight holds of an endpoint", SEEN == 8),
    ("a second plus four times the longest of its last 64 holds", (FACTOR, KEPT) == (4, 64)),
    ("after `max_wait` (120 s)", limiter_default("max_wait") == 120),
    ("one of the limiter's 16 database connections", limiter_default("pool_size") == 16),
    ("shared for 10 minutes", DEFAULT_TTL == 600),
    ("A worker runs with a 1 ms thread switch interval", SWITCH_INTERVAL == 0.001),
    ("one per job on `billing_milestones.workers`", JOB_LOGGER == "billing_milestones.workers"),
    ("(`--stalled-after`, 30 s by default)", option_default("worker", "stalled_after") == 30),
    ("at most `--limit` of them (20 by default, up to 10,000)", option_default("runs", "limit") == 20),
    (", ".join(f"`{k}={v}`" for k, v in KEEPALIVES.items()), True),
]


@pytest.mark.parametrize(("phrase", "holds"), PINNED, ids=[phrase[:40] for phrase, _ in PINNED])
def test_the_page_says_what_the_code_does(phrase: str, holds: bool) -> None:
    assert phrase in PAGE, f"the page no longer says: {phrase}"
    assert holds, f"the code no longer does what the page says: {phrase}"
