"""A run's error in the history is bounded: a platform's error text can be as long as its body.

Kantata's 422 lists one message per refused field, Autotask's ``errors`` one per item, and each is kept whole
by the error (for the caller who catches it). The run's row keeps a summary: its first characters and how
many more there were, on both backends, and the log line says the same.
"""

from __future__ import annotations

import logging

import pytest

from billing_milestones import errors
from billing_milestones.kantata._errors import error_detail
from billing_milestones.sync import LinkStore
from billing_milestones.sync.runs import ERROR_LIMIT

from .test_apply_runs import seeded, sync


def _long_refusal(items: int) -> errors.UnprocessableEntityError:
    """What the Kantata client raises for a 422 whose body lists ``items`` validation errors."""
    body = {
        "errors": [{"type": "validation", "message": f"line {i} is not valid", "field": "title"} for i in range(items)]
    }
    detail = error_detail(body)
    return errors.UnprocessableEntityError(
        "HTTP 422 Unprocessable Entity",
        platform="kantata",
        method="POST",
        path="/api/v1/milestones",
        status_code=422,
        messages=detail.messages,
        body=body,
    )


def test_a_run_whose_write_fails_with_a_long_platform_error_keeps_a_bounded_error(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    source, target, pair = seeded(1)
    refusal = _long_refusal(20_000)
    assert len(str(refusal)) > 500_000  # the error itself keeps every message
    target.fail["create"] = refusal
    with LinkStore(store_url) as store, caplog.at_level(logging.INFO, logger="billing_milestones.sync"):
        sync(pair, source, target, store)
        (run,) = store.runs(pair.identity)
    assert not run.ok and run.error is not None and len(run.error) <= ERROR_LIMIT
    assert run.error.startswith("1 write(s) failed; first: HTTP 422 Unprocessable Entity [kantata POST ")
    assert run.error.endswith(" more characters not kept; the error raised has them all)")
    (line,) = [r.getMessage() for r in caplog.records if getattr(r, "bm_event", None) == "sync_run"]
    assert run.error in line and len(line) < ERROR_LIMIT + 200


def test_a_short_error_is_kept_whole_and_one_just_at_the_limit_too() -> None:
    source, target, pair = seeded(1)
    store = LinkStore(":memory:")
    message = "x" * (ERROR_LIMIT - len("1 write(s) failed; first: "))
    target.fail["create"] = errors.BillingMilestonesError(message)
    sync(pair, source, target, store)
    (run,) = store.runs(pair.identity)
    assert run.error == f"1 write(s) failed; first: {message}" and len(run.error) == ERROR_LIMIT


def test_a_run_that_raises_a_long_error_keeps_a_bounded_one() -> None:
    source, target, pair = seeded(1)
    store = LinkStore(":memory:")

    def progress(_: object) -> None:
        raise RuntimeError("y" * 100_000)

    with pytest.raises(RuntimeError):
        sync(pair, source, target, store, progress=progress)
    (run,) = store.runs(pair.identity)
    assert run.error is not None and run.error.startswith("RuntimeError: yyy") and len(run.error) <= ERROR_LIMIT
    assert run.error.endswith("(98,094 more characters not kept; the error raised has them all)")
