"""A served request's headers are what httpx reads from their text, however they are handed over."""

from __future__ import annotations

import httpx
import pytest

from billing_milestones.sandbox._asgi import _headers


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
