"""A served request's headers, URL text and query are what httpx, Starlette and parse_qsl make of them, however
they are read."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import URL

from billing_milestones.sandbox._asgi import _headers, _url_text
from billing_milestones.sandbox._emulator import query_dict


@pytest.mark.parametrize(
    "raw",
    [
        [(b"host", b"127.0.0.1:80"), (b"authorization", b"Bearer t"), (b"x-a", b"1"), (b"X-A", b"2")],
        [],
        [(b"x-note", b"caf\xe9")],  # past ASCII: refused, as the text's way refuses it
    ],
)
def test_a_served_requests_headers_are_those_of_their_text(raw: list[tuple[bytes, bytes]]) -> None:
    try:
        expected = httpx.Headers([(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw])
    except UnicodeEncodeError as exc:
        with pytest.raises(type(exc)):
            _headers(raw)
        return
    got = _headers(raw)
    assert got.raw == expected.raw and list(got.multi_items()) == list(expected.multi_items())
    assert got.encoding == expected.encoding and got.get("x-a") == expected.get("x-a")


_HOST_HEADERS = st.sampled_from(
    [b"127.0.0.1:39613", b"localhost:8080", b"a-b.example:1", b"LOCALHOST:80", b"[::1]:80", b"x_y:5", b"h:0080",
     b"h:65535", b"h:65536", b"h:99999", b"h", b"h:", b"caf\xe9:80", b"a..b:80", b"-:80"]
)  # fmt: skip


@st.composite
def _scopes(draw: st.DrawFn) -> dict[str, Any]:
    headers = [(b"accept", b"*/*")]
    if draw(st.booleans()):
        headers.insert(draw(st.integers(0, 1)), (b"host", draw(_HOST_HEADERS)))
    if draw(st.booleans()):
        headers.append((b"host", b"second.example:81"))
    return {
        "type": "http",
        "scheme": draw(st.sampled_from(["http", "https", "ws", "wss"])),
        "server": draw(st.sampled_from([("127.0.0.1", 8000), ("::1", 443), None])),
        "path": draw(st.sampled_from(["/", "", "//x"])) + draw(st.text(alphabet="az09/?#\\%.:@é ", max_size=12)),
        "query_string": draw(st.binary(max_size=3).map(lambda b: b"q=1&x=" + b) | st.just(b"")),
        "headers": headers,
    }


@settings(max_examples=1500, deadline=None)
@given(_scopes())
def test_a_served_requests_url_text_is_starlettes(scope: dict[str, Any]) -> None:
    try:
        expected = str(URL(scope=scope))
    except UnicodeDecodeError as exc:
        with pytest.raises(type(exc)):
            _url_text(scope)
        return
    assert _url_text(scope) == expected


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="ab=&+%2C0Fé;? ", max_size=30))
def test_a_query_is_read_as_parse_qsl_reads_it(query: str) -> None:
    assert query_dict(query) == dict(parse_qsl(query, keep_blank_values=True))
