"""A registered secret in a run's error reaches neither its row (printed by ``milestones runs``) nor its log line.

The ``billing_milestones`` logger scrubs registered secrets from what is logged on it, so that "even a careless
log call cannot print" one; but a logger's filter sees only the records logged on that logger, not those of its
children, and the run's line is logged on ``billing_milestones.sync``. The platforms' errors are scrubbed when
they are made; any other error a run raises (a store's, a progress callback's) was written and logged as it was.
"""

from __future__ import annotations

import logging

import pytest

from billing_milestones._http import REDACTED, register_secret
from billing_milestones.sync import LinkStore

from .test_apply_runs import seeded, sync

SECRET = "tok-run-history-7f3a9c"


def test_a_secret_in_a_runs_error_is_scrubbed_from_its_row_and_its_log_line(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    register_secret(SECRET)
    source, target, pair = seeded(1)

    def progress(_: object) -> None:
        raise RuntimeError(f"callback failed for https://hooks.example/notify?token={SECRET}")

    with LinkStore(store_url) as store, caplog.at_level(logging.INFO, logger="billing_milestones.sync"):
        with pytest.raises(RuntimeError):
            sync(pair, source, target, store, progress=progress)
        (run,) = store.runs(pair.identity)
    assert run.error == f"RuntimeError: callback failed for https://hooks.example/notify?token={REDACTED}"
    (line,) = [r.getMessage() for r in caplog.records if getattr(r, "bm_event", None) == "sync_run"]
    assert SECRET not in line and f"token={REDACTED}" in line


def test_any_line_on_the_sync_logger_is_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    register_secret(SECRET)
    with caplog.at_level(logging.INFO, logger="billing_milestones.sync"):
        logging.getLogger("billing_milestones.sync").warning("pair p: the store said %s", SECRET)
    (record,) = caplog.records
    assert record.getMessage() == f"pair p: the store said {REDACTED}"
