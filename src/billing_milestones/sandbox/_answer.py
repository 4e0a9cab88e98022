"""An emulator's JSON answer: an ``httpx.Response`` made only when something reads it as one.

Every handler answers with an ``httpx.Response`` (the in-process transports hand it to the client), yet a
request served on a socket only needs its status, headers and body, to send them. Building the response
(its headers normalised one by one, the body wrapped in a stream, then read back through the decoders) was
about a third of a small served request's CPU in the emulator. :class:`Answer` holds the three and is made
a full ``httpx.Response`` the first time any other attribute is read (its ``headers``, ``content``, ``json()``,
anything), keeping whatever was set on it before; :meth:`Answer.served` gives what the ASGI app sends, the
headers exactly as they would be read back from the response, or None once it is a response (read, changed).
Headers other than the plain ASCII ones every emulator writes make the response at once (:func:`answer`).
tests/sandbox/test_answer.py compares the two.
"""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["Answer", "answer"]


def answer(status: int, content: bytes, headers: dict[str, str]) -> httpx.Response:
    """``httpx.Response(status, content=content, headers=headers)``: an :class:`Answer` when its headers are
    plain (ASCII text, no two names differing only in case, no content-encoding, which the response would
    decode the body by), else that response made at once (it merges, encodes, decodes or refuses as it does)."""
    raw: list[tuple[bytes, bytes]] = []
    names: set[str] = set()
    for key, value in headers.items():
        if type(key) is not str or type(value) is not str or not (key.isascii() and value.isascii()):
            return httpx.Response(status, content=content, headers=headers)
        name = key.lower()
        if name in names or name == "content-encoding":
            return httpx.Response(status, content=content, headers=headers)
        names.add(name)
        if name != "content-length":  # the server writes the body's own (see ``_asgi._send``)
            raw.append((name.encode(), value.encode()))
    return Answer(status, content, headers, raw)


class Answer(httpx.Response):
    """``httpx.Response(status, content=content, headers=headers)`` for plain headers (see :func:`answer`),
    made when first read as a response."""

    _pending: tuple[bytes, dict[str, str], list[tuple[bytes, bytes]]]

    def __init__(self, status: int, content: bytes, headers: dict[str, str], raw: list[tuple[bytes, bytes]]) -> None:
        # Not httpx.Response.__init__ yet: the status is what the pipeline reads (to log it), the rest waits.
        self.status_code = status
        self._pending = (content, headers, raw)

    def __getattr__(self, name: str) -> Any:
        # Only for what the instance does not hold yet: make the response, keep what was set since, read again.
        pending = self.__dict__.pop("_pending", None)
        if pending is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        kept = dict(self.__dict__)
        httpx.Response.__init__(self, kept["status_code"], content=pending[0], headers=pending[1])
        self.__dict__.update(kept)
        return getattr(self, name)

    def served(self) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        """(status, headers, body) as ``_asgi._send`` sends the response (header names in lower case, without
        the server's own content-length), or None once it is a response (read or changed as one)."""
        pending = self.__dict__.get("_pending")
        if pending is None:
            return None
        return self.status_code, list(pending[2]), pending[0]
