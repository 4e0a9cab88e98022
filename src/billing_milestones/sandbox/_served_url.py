"""The parts of a served request's URL that the emulators route by, read without building an ``httpx.URL``.

A served request's URL is the text Starlette writes for its scope. httpx parses and checks that text
character by character (about a tenth of a small request's CPU in the server), yet for the URLs clients send
on loopback (``http://127.0.0.1:PORT/path?query``, nothing to quote, decode or normalise) its parts are
slices of the text. :func:`simple_parts` cuts such a text into the parts httpx would give and answers None
for anything else (IPv6 or upper-case hosts, a default or out-of-range port, percent-escapes in the path, a
dot segment, a character httpx would quote or a malformed escape in the query), which is then parsed by httpx
as before. tests/sandbox/test_served_url.py compares the two on generated URLs.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["simple_parts"]

#: scheme, host (lower-case name or IPv4 address), port, path and query, in characters httpx keeps as they are.
_SIMPLE: Final = re.compile(
    r"(https?)://((?:[a-z0-9-]+\.)*[a-z0-9-]+):([1-9][0-9]{0,4})"
    r"(/[A-Za-z0-9._~!$&'()*+,;=:@/-]*)(?:\?([A-Za-z0-9._~!$&'()*+,;=:@/?%-]*))?"
)
_BAD_ESCAPE: Final = re.compile(r"%(?![0-9A-Fa-f]{2})")
_DEFAULT_PORT: Final = {"http": "80", "https": "443"}


def simple_parts(text: str) -> tuple[str, str, str, str] | None:
    """(scheme, netloc, path, query) of ``text`` exactly as ``httpx.URL(text)`` reads them (``scheme``,
    ``netloc.decode()``, ``path``, ``query.decode()``), or None when only httpx can say."""
    match = _SIMPLE.fullmatch(text)
    if match is None:
        return None
    scheme, host, port, path, query = match.groups()
    if port == _DEFAULT_PORT[scheme] or int(port) > 65535 or "/." in path:
        return None
    if query is None:
        return scheme, f"{host}:{port}", path, ""
    if "%" in query and _BAD_ESCAPE.search(query):
        return None
    return scheme, f"{host}:{port}", path, query
