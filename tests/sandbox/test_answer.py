"""An emulator's Answer is the httpx.Response it stands for, and a served one sends exactly what that response
would have sent."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from billing_milestones.sandbox import json_response
from billing_milestones.sandbox._answer import Answer, answer
from billing_milestones.sandbox._asgi import _send

HEADERS: list[dict[str, Any]] = [
    {"Content-Type": "application/json; charset=utf-8"},
    {"Content-Type": "application/json", "Retry-After": "1.500"},
    {"Content-Type": "a", "Content-Length": "999", "Content-Encoding": "gzip", "X-Total": "3"},
    {"Content-Type": "a", "content-type": "b"},  # two names differing in case: the response merges them
    {"Content-Type": "a", "X-Note": "caf\u00e9"},  # not ASCII: the response encodes it its own way
    {"Content-Type": "a", "X-Empty": ""},
    {},
]


def _sent(response: httpx.Response) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        messages.append(message)

    asyncio.run(_send(response, send))
    return messages


@pytest.mark.parametrize("headers", HEADERS, ids=range(len(HEADERS)))
@pytest.mark.parametrize("status", [200, 204, 304, 429, 503, 101])
@pytest.mark.parametrize("content", [b"", b'{"a":1}'])
def test_a_served_answer_sends_what_its_response_would(status: int, content: bytes, headers: dict[str, Any]) -> None:
    """Plain headers make an Answer; any other are the response at once, which refuses (a text not ASCII) or
    decodes the body (content-encoding) as it always did."""
    try:
        plain = httpx.Response(status, content=content, headers=headers)
    except UnicodeEncodeError as exc:
        with pytest.raises(type(exc)):
            answer(status, content, dict(headers))
        return
    except httpx.DecodingError as exc:
        with pytest.raises(type(exc)):
            answer(status, content, dict(headers))
        return
    made = answer(status, content, dict(headers))
    merged_or_decoded = headers is HEADERS[3] or "Content-Encoding" in headers
    assert type(made) is (httpx.Response if merged_or_decoded else Answer)
    expected = _sent(plain)
    assert _sent(made) == expected
    # the answer read as a response is that response
    assert made.status_code == plain.status_code and made.content == plain.content
    assert made.headers.raw == plain.headers.raw
    assert not isinstance(made, Answer) or made.served() is None
    assert _sent(made) == expected


def test_the_ascii_answers_are_sent_without_making_the_response() -> None:
    made = json_response(429, {"message": "slow down"}, {"Retry-After": "2"})
    assert isinstance(made, Answer) and made.served() is not None
    _sent(made)
    assert "_pending" in made.__dict__ and "headers" not in made.__dict__
    assert made.json() == {"message": "slow down"} and made.headers["retry-after"] == "2"
    assert "_pending" not in made.__dict__


def test_what_is_set_on_an_answer_before_it_is_read_is_kept() -> None:
    made = json_response(200, {"a": 1})
    made.status_code = 201
    made.request = request = httpx.Request("GET", "http://x/")
    assert made.headers["content-type"] == "application/json; charset=utf-8"
    assert made.status_code == 201 and made.request is request and made.json() == {"a": 1}
    with pytest.raises(AttributeError, match="no attribute 'nothing_of_the_kind'"):
        _ = made.nothing_of_the_kind  # type: ignore[attr-defined]


def test_an_answer_changed_as_a_response_sends_the_change() -> None:
    made = json_response(503, {"message": "down"})
    made.headers["Retry-After"] = "5"
    assert isinstance(made, Answer) and made.served() is None
    start = _sent(made)[0]
    assert (b"retry-after", b"5") in start["headers"]
