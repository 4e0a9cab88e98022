"""The retry policy of one call as tenacity's arguments: when to stop, how long to wait, what to log."""

from __future__ import annotations

from typing import Any

from tenacity import RetryCallState, retry_if_exception

from ._core import ClientCore
from ._redact import logger
from ._request import RequestSpec
from ._retry import backoff_delay

__all__ = ["retry_args"]


def retry_args(core: ClientCore, spec: RequestSpec, head_start: float = 0.0) -> dict[str, Any]:
    """Tenacity's policy for one call; ``head_start`` is the time the first attempt took before the loop
    began (see ``request``), so the retry budget counts it as it counts every other attempt."""
    max_retries = core.max_retries_for(spec)

    def stop(state: RetryCallState) -> bool:
        if state.attempt_number > max_retries:
            return True
        # Time spent so far: the clock, or the waits themselves when the sleep is not the real one.
        spent = max((state.seconds_since_start or 0.0) + head_start, state.idle_for)
        if spent + state.upcoming_sleep > core.retry.total_budget:
            logger.info(
                "giving up on %s %s: the next wait would exceed the %.0fs retry budget",
                spec.method,
                spec.path,
                core.retry.total_budget,
            )
            return True
        return False

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hint = core.retry_hint(exc) if exc is not None else None
        return hint if hint is not None else backoff_delay(core.retry, state.attempt_number - 1)

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        logger.info(
            "retrying %s %s in %.2fs (retry %d of %d) after %s",
            spec.method,
            spec.path,
            state.upcoming_sleep,
            state.attempt_number,
            max_retries,
            type(exc).__name__,
        )

    return {
        "retry": retry_if_exception(lambda exc: core.should_retry(spec, exc)),
        "stop": stop,
        "wait": wait,
        "before_sleep": before_sleep,
        "reraise": True,
    }
