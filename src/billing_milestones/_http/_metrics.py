"""One structured log record per HTTP attempt, on the ``billing_milestones.metrics`` logger.

A sync that runs on workers nobody watches must say how its requests went: how long each took, which were
retried, which failed, and the platform's request id to quote to the vendor. Every attempt the runners send
(each retry and each page is one) leaves one INFO record whose ``extra`` fields (prefixed ``bm_``, as the
run records of ``billing_milestones.sync``, so they never collide with LogRecord's own) are:

``bm_event`` ``"http_request"``; ``bm_platform``; ``bm_method``; ``bm_path``, the request's URL path with
every id-like segment replaced by ``{id}`` (never the query string, headers or body, and registered secrets
scrubbed); ``bm_status`` (the HTTP status, None when no response came) and ``bm_error`` (the transport
error's class name for a failed connection, else None); ``bm_duration_s`` (the send, seconds);
``bm_attempt`` (0 for the first send, 1 for the first retry...); ``bm_retried`` (True when another attempt
followed this one); ``bm_request_id`` (the server's, when it gave one).

A record is emitted once its attempt's fate is known: when the next attempt is sent (``bm_retried`` True) or
when the call ends (False). Not when the runner decides to retry: the retry may never be sent (a request
budget, the limiter or a before-send hook refuses it after the wait), and a record marked retried then
counted a retry that did not happen. The logger is asked ``isEnabledFor`` once per call; disabled (the
default: no handler sets it to INFO), a call costs one level check and no clock, formatting or allocation.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any, Final

import httpx

from ._core import SEND_FAILURES, request_id_of
from ._redact import scrub

__all__ = ["METRICS_LOGGER", "Meter", "asend", "meter", "path_template", "send"]

METRICS_LOGGER: Final = "billing_milestones.metrics"
"""The name of the logger that takes one INFO record per HTTP attempt, for a handler or a level
(``logging.getLogger(METRICS_LOGGER).setLevel("INFO")``); its ``bm_`` fields are listed in the metrics guide."""
logger: Final = logging.getLogger(METRICS_LOGGER)

# A path segment that names one record: digits (Kantata, Autotask ids), or a long run of hex and dashes with
# a digit in it (crm.com's UUIDs); an optional suffix (Kantata's ``.json``) is kept.
_ID_SEGMENT: Final = re.compile(r"(?<=/)(?:\d+|(?=[0-9a-fA-F-]*\d)[0-9a-fA-F-]{16,})(?=\.[A-Za-z]+$|/|$)")


def path_template(path: str) -> str:
    """``/api/v1/workspaces/123.json`` -> ``/api/v1/workspaces/{id}.json``: one series per endpoint in a
    metrics store, and no record ids (which can be a customer's data) in the log."""
    return scrub(_ID_SEGMENT.sub("{id}", path))


class Meter:
    """The attempts of one call: the last one waits here until the runner says whether it is retried."""

    __slots__ = ("_pending", "platform")

    def __init__(self, platform: str) -> None:
        self.platform = platform
        self._pending: dict[str, Any] | None = None

    def answered(self, response: httpx.Response, attempt: int, seconds: float) -> None:
        self._hold(response.request, attempt, seconds, response.status_code, None, request_id_of(response))

    def failed(self, request: httpx.Request, exc: BaseException, attempt: int, seconds: float) -> None:
        self._hold(request, attempt, seconds, None, type(exc).__name__, None)

    def _hold(
        self,
        request: httpx.Request,
        attempt: int,
        seconds: float,
        status: int | None,
        error: str | None,
        request_id: str | None,
    ) -> None:
        self.flush(retried=True)  # never lose an attempt: another one was sent after it
        self._pending = {
            "bm_event": "http_request",
            "bm_platform": self.platform,
            "bm_method": request.method,
            "bm_path": path_template(request.url.path),
            "bm_status": status,
            "bm_error": error,
            "bm_duration_s": round(seconds, 6),
            "bm_attempt": attempt,
            "bm_retried": False,
            "bm_request_id": scrub(request_id) if request_id is not None else None,
        }

    def flush(self, *, retried: bool) -> None:
        """Emit the held attempt, if any: ``retried`` says whether the runner sends the call again."""
        fields, self._pending = self._pending, None
        if fields is None:
            return
        fields["bm_retried"] = retried
        logger.info(
            "%s %s %s -> %s in %.3fs (attempt %d%s)",
            fields["bm_platform"],
            fields["bm_method"],
            fields["bm_path"],
            fields["bm_status"] if fields["bm_error"] is None else fields["bm_error"],
            fields["bm_duration_s"],
            fields["bm_attempt"],
            ", retried" if retried else "",
            extra=fields,
        )


def meter(platform: str) -> Meter | None:
    """A meter for one call, or None when no record would be kept (the one level check per call)."""
    return Meter(platform) if logger.isEnabledFor(logging.INFO) else None


def send(http: httpx.Client, request: httpx.Request, meter: Meter | None, attempt: int) -> httpx.Response:
    """``http.send(request)``, timed into ``meter`` when there is one (a send failure is re-raised)."""
    if meter is None:
        return http.send(request, follow_redirects=False)
    meter.flush(retried=True)  # the attempt before this one, if any, is now retried
    started = time.perf_counter()
    try:
        response = http.send(request, follow_redirects=False)
    except SEND_FAILURES as exc:
        meter.failed(request, exc, attempt, time.perf_counter() - started)
        raise
    meter.answered(response, attempt, time.perf_counter() - started)
    return response


async def asend(http: httpx.AsyncClient, request: httpx.Request, meter: Meter | None, attempt: int) -> httpx.Response:
    """The awaitable :func:`send`."""
    if meter is None:
        return await http.send(request, follow_redirects=False)
    meter.flush(retried=True)
    started = time.perf_counter()
    try:
        response = await http.send(request, follow_redirects=False)
    except SEND_FAILURES as exc:
        meter.failed(request, exc, attempt, time.perf_counter() - started)
        raise
    meter.answered(response, attempt, time.perf_counter() - started)
    return response
