"""A run's error with a NUL or a surrogate in it still closes the run's row, on both backends.

A run's row is opened when it takes the lease and its end written by ``sync/runs.py`` itself (an UPDATE of
that row, not ``LinkStore.record_run``). PostgreSQL refuses a NUL in a text column and neither backend can
encode a surrogate (a path decoded with ``surrogateescape`` in an ``OSError``, a platform echoing a title
that held one): the end was refused, logged, and the row left open, read as "running, or lost" until the
pair's next run closed it as lost, its error and its counts gone. The error is written with U+FFFD instead.
"""

from __future__ import annotations

import logging

import pytest

from billing_milestones.sync import LinkStore

from .test_apply_runs import seeded, sync


@pytest.mark.parametrize("bad", ["\x00", "\udcff"], ids=["nul", "surrogate"])
def test_a_runs_error_holding_an_unstorable_character_closes_its_row_with_that_error(
    store_url: str, bad: str, caplog: pytest.LogCaptureFixture
) -> None:
    source, target, pair = seeded(2)

    def progress(_: object) -> None:
        raise OSError(f"cannot write /var/spool/{bad}report.txt")

    with LinkStore(store_url) as store, caplog.at_level(logging.INFO, "billing_milestones.sync"):
        with pytest.raises(OSError):
            sync(pair, source, target, store, progress=progress)
        (run,) = store.runs(pair.identity)
    assert not run.open, run.error
    assert (run.ok, run.created, run.error) == (False, 1, "OSError: cannot write /var/spool/\ufffdreport.txt")
    assert "could not be recorded" not in caplog.text
    (line,) = [r for r in caplog.records if getattr(r, "bm_event", None) == "sync_run"]
    assert bad not in line.getMessage() and "\ufffdreport.txt" in line.getMessage()
