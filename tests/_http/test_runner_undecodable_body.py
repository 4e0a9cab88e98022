"""An answer whose body cannot be decoded (``Content-Encoding: gzip`` over bytes that are not gzip, a stream
cut short by a proxy) is raised by httpx as ``DecodingError``, which is not a ``TransportError``: it left the
clients raw, past the typed errors, the retry rules and the metrics record. It is now an
``APIConnectionError`` like any answer that could not be read: a GET is sent again, a POST is not (the server
received it and answered: replaying it could create its milestones twice)."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from billing_milestones import METRICS_LOGGER, errors
from billing_milestones._http import AsyncRunner, ClientCore, RequestSpec, RetryPolicy, SyncRunner

MODES = pytest.mark.parametrize("mode", ["sync", "async"])


def core() -> ClientCore:
    return ClientCore(
        platform="testplat",
        base_url=httpx.URL("https://api.example.com/v1"),
        credentials=dict,
        retry=RetryPolicy(max_retries=2, jitter=0.0),
    )


class Answers:
    """Answers a corrupt gzip body ``bad`` times, then a good JSON one; counts what it was sent."""

    def __init__(self, bad: int) -> None:
        self.bad = bad
        self.sent = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        if self.sent <= self.bad:
            return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=b"not gzip at all")
        return httpx.Response(200, json={"ok": True})


def send(mode: str, answers: Answers, method: str) -> int:
    """The status of one ``method`` request through a runner on ``answers``."""
    transport = httpx.MockTransport(answers)
    spec = RequestSpec(method, "/x", json={} if method == "POST" else None)
    if mode == "sync":
        with httpx.Client(transport=transport) as http:
            return SyncRunner(core(), http, sleep=lambda s: None).request(spec).status_code

    async def run() -> int:
        async def asleep(seconds: float) -> None:
            return None

        async with httpx.AsyncClient(transport=transport) as http:
            return (await AsyncRunner(core(), http, sleep=asleep).request(spec)).status_code

    return asyncio.run(run())


@MODES
def test_a_get_whose_answer_cannot_be_decoded_is_sent_again(mode: str) -> None:
    answers = Answers(bad=1)
    assert send(mode, answers, "GET") == 200
    assert answers.sent == 2


@MODES
def test_a_get_never_decodable_ends_as_a_typed_connection_error(mode: str) -> None:
    answers = Answers(bad=10)
    with pytest.raises(errors.APIConnectionError, match="could not be decoded") as caught:
        send(mode, answers, "GET")
    assert answers.sent == 3  # the first attempt and max_retries=2
    assert caught.value.retries_taken == 2
    assert caught.value.method == "GET" and caught.value.path == "/v1/x"


@MODES
def test_a_post_whose_answer_cannot_be_decoded_is_never_sent_again(mode: str) -> None:
    answers = Answers(bad=1)
    with pytest.raises(errors.APIConnectionError, match="could not be decoded"):
        send(mode, answers, "POST")
    assert answers.sent == 1


@MODES
def test_the_undecodable_attempt_has_its_metrics_record(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=METRICS_LOGGER)
    send(mode, Answers(bad=1), "GET")
    records = caplog.records
    attempts = [
        (getattr(r, "bm_attempt", None), getattr(r, "bm_error", None), getattr(r, "bm_retried", None))
        for r in records
        if getattr(r, "bm_event", None) == "http_request"
    ]
    assert attempts == [(0, "DecodingError", True), (1, None, False)]
