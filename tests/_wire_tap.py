"""A TCP proxy between a process under test and ``milestones sandbox serve``: the request log of what the
process sent, seen on the wire, and holds that stop a chosen request (or its answer) where it is.

The crash-point tests kill a real process at a chosen moment of its run, without a hook in the product's code:
they point its base URLs here, wait until the request of that moment passes (its request line, read from the
bytes), and either hold the request before the server sees it (once the process has sent all of it: head and
``Content-Length`` body) or let the server serve it and hold the answer before the process reads it. A process
that dies meanwhile closes its side; the server's side stays open until the server has answered what it was
sent (as a server keeps serving a request whose client went away), so a held request released after the kill
is still served, and its milestone lands after its writer died. A held request goes on a new connection once
released (the server closes one left idle past its keep-alive meanwhile).
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Final, Literal

__all__ = ["Hold", "Seen", "WireTap"]

_REQUEST_LINE: Final = re.compile(rb"(GET|POST|PUT|PATCH|DELETE) (\S+) HTTP/1\.1\r\n")
#: How long the server's side of a connection whose client died is kept open for its answer.
_LINGER: Final = 20.0


@dataclass(frozen=True)
class Seen:
    """One request line as it passed: method, path (with its query) and when (``time.monotonic``)."""

    method: str
    path: str
    at: float


@dataclass
class Hold:
    """A request to stop: the first (after ``skip``) whose method and path match (both regexes), held ``where`` until
    :meth:`release`: its ``request`` before the server sees it, or its ``answer`` after the server sent it.
    ``passed`` is set once its request line went by, ``caught`` once it is held (an answer: once the server's
    answer reached the tap, at ``answered_at``)."""

    method: str
    path: re.Pattern[str]
    where: Literal["request", "answer"]
    skip: int = 0
    passed: threading.Event = field(default_factory=threading.Event)
    caught: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    seen: Seen | None = None
    answered_at: float | None = None
    dropped: bool = False

    def release(self) -> None:
        self.released.set()

    def drop(self) -> None:
        """Never deliver what is held: a request lost on the way (its connection is closed instead)."""
        self.dropped = True
        self.released.set()

    def wait(self, bound: float = 30.0) -> Seen:
        """Once it is held (a request: as it passed; an answer: once the server sent it)."""
        assert self.caught.wait(bound), f"no {self.method} {self.path.pattern} was held within {bound} s"
        assert self.seen is not None
        return self.seen

    def wait_passed(self, bound: float = 30.0) -> Seen:
        """Once its request line went by (an answer hold: the server has the request, not yet answered)."""
        assert self.passed.wait(bound), f"no {self.method} {self.path.pattern} passed within {bound} s"
        assert self.seen is not None
        return self.seen


class WireTap:
    """Listens on a loopback port and forwards every connection to ``upstream`` (host, port)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.seen: list[Seen] = []
        self._holds: list[Hold] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def hold(self, method: str, path: str, where: Literal["request", "answer"], *, skip: int = 0) -> Hold:
        """Stop the next request matching ``method`` and the regex ``path`` (after ``skip`` of them)."""
        hold = Hold(method, re.compile(path), where, skip)
        with self._lock:
            self._holds.append(hold)
        return hold

    def count(self, method: str, path: str = "") -> int:
        pattern = re.compile(path)
        with self._lock:
            return sum(1 for s in self.seen if s.method == method and pattern.search(s.path))

    def close(self) -> None:
        self._closed = True
        with self._lock:
            for hold in self._holds:
                hold.released.set()
        with contextlib.suppress(OSError):
            self._listener.close()

    # -- plumbing -----------------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        answers: list[Hold] = []  # holds on this connection's answers, in the order of their requests
        gone = threading.Event()
        current: list[socket.socket] = []

        def connect() -> socket.socket:
            """A connection to the server, its answers relayed to ``client`` by a thread of its own."""
            server = socket.create_connection(self.upstream)
            current[:] = [server]
            args = (server, client, answers, gone, lambda: server in current)
            threading.Thread(target=self._answers, args=args, daemon=True).start()
            return server

        server = connect()
        sent = bytearray()  # what was forwarded of requests not yet whole
        begun: list[Hold | None] = []  # the hold of each request begun and not yet whole
        holding: Hold | None = None  # a request hold whose request is not yet whole here
        held = bytearray()
        with contextlib.suppress(OSError):
            for chunk in _chunks(client):
                for hold in self._match(chunk):
                    begun.append(hold)
                    if hold is not None and hold.where == "request":
                        holding = hold
                    elif hold is not None:
                        answers.append(hold)
                if holding is not None:
                    held += chunk
                    if not _whole(bytearray(held)):
                        continue  # held once it is whole: its writer has sent all of it
                    # Held off the connection it came on: the server closes that one once idle past its keep-alive
                    # (5 s), which must not reach the writer (it would send again on a new one), and the request
                    # goes on a new connection once released.
                    current.clear()
                    holding.caught.set()
                    holding.released.wait()
                    server.close()
                    if holding.dropped:
                        client.close()
                        return
                    server = connect()
                    chunk, holding = bytes(held), None
                    held.clear()
                server.sendall(chunk)
                sent += chunk
                for _ in range(_whole(sent)):  # requests the server now has whole: passed
                    hold = begun.pop(0) if begun else None
                    if hold is not None:
                        hold.passed.set()
        gone.set()  # the client closed its side (or died): the server's answer is still awaited

    def _answers(
        self,
        server: socket.socket,
        client: socket.socket,
        answers: list[Hold],
        gone: threading.Event,
        live: Callable[[], bool],
    ) -> None:
        """Relay ``server``'s answers to ``client`` until either closes; the client is closed with the server
        only while ``live()`` (the connection was not replaced)."""
        server.settimeout(0.2)
        idle_since: float | None = None
        with contextlib.closing(server):
            while True:
                try:
                    chunk = server.recv(65536)
                except TimeoutError:
                    if gone.is_set():
                        idle_since = idle_since or time.monotonic()
                        if time.monotonic() - idle_since > _LINGER:
                            break
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                idle_since = None
                if answers:
                    hold = answers.pop(0)
                    hold.answered_at = time.monotonic()
                    hold.caught.set()
                    hold.released.wait()
                    if hold.dropped:
                        break
                with contextlib.suppress(OSError):
                    client.sendall(chunk)
        if live():
            with contextlib.suppress(OSError):
                client.close()

    def _match(self, chunk: bytes) -> list[Hold | None]:
        """Each request line in ``chunk``: the hold it matched, or None."""
        found: list[Hold | None] = []
        for m in _REQUEST_LINE.finditer(chunk):
            seen = Seen(m.group(1).decode(), m.group(2).decode("latin-1"), time.monotonic())
            with self._lock:
                self.seen.append(seen)
                for hold in self._holds:
                    if hold.seen is None and re.fullmatch(hold.method, seen.method) and hold.path.search(seen.path):
                        if hold.skip:
                            hold.skip -= 1
                            continue
                        hold.seen = seen
                        break
                else:
                    hold = None
                found.append(hold)
        return found


_LENGTH: Final = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)


def _whole(sent: bytearray) -> int:
    """How many whole requests (head and ``Content-Length`` body) ``sent`` begins with; they are cut off it."""
    count = 0
    while (end := sent.find(b"\r\n\r\n")) >= 0:
        length = _LENGTH.search(sent, 0, end)
        size = end + 4 + (int(length.group(1)) if length else 0)
        if len(sent) < size:
            break
        del sent[:size]
        count += 1
    return count


def _chunks(sock: socket.socket) -> Iterator[bytes]:
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return
        yield chunk
