"""Wake-ups for the shared limiter's waiters: a released slot is announced with ``NOTIFY``, and one thread
per limiter ``LISTEN``s for it and wakes one local waiter of that key.

Why one listener per limiter rather than one per waiting thread: PostgreSQL sends each notification to
every listening connection, so a connection per waiter woke every waiter of every worker on each release
(all but one went back to sleep, having cost a round trip each; tried before, and it doubled the client's
CPU). Here a release wakes one listener per worker process, and that wakes one thread (the longest
waiting: ``threading.Condition`` is first in, first out), so a release costs at most one try per process.

A waiter never relies on a notification alone: each key keeps a count of the releases heard, a waiter
reads it before it tries to take a slot and sleeps only while it is unchanged, so a release heard between
its try and its sleep is not missed; and it sleeps at most a poll interval, so a notification lost with
a dropped connection, or a slot freed by its lease running out (which nothing announces), is still found.
When the listener connects again every waiter is woken, since releases may have gone unheard meanwhile.
"""

from __future__ import annotations

import logging
import threading

import psycopg
from psycopg import sql

from ..sync.store import with_keepalives

__all__ = ["Wakeups"]

_log = logging.getLogger(__name__)

#: How often the listener looks up from its socket to see whether it is closed (seconds).
_TICK = 0.25
#: How long a waiter waits for the listener's first LISTEN before it falls back to polling alone.
_READY_WAIT = 2.0
#: The pause before the listener connects again after losing its connection.
_RECONNECT = 0.5


class _Key:
    __slots__ = ("cond", "heard")

    def __init__(self, lock: threading.Lock) -> None:
        self.heard = 0
        self.cond = threading.Condition(lock)


class Wakeups:
    """Releases of slots announced on ``channel`` (the payload names the key), heard by one thread."""

    def __init__(self, url: str, channel: str) -> None:
        self._url = with_keepalives(url)  # a listener on a dropped network reconnects within a minute
        self._channel = channel
        self._lock = threading.Lock()
        self._keys: dict[str, _Key] = {}
        self._thread: threading.Thread | None = None
        #: Set once the listener's first connection has listened or failed: the first waiters wait for it.
        self._first = threading.Event()
        #: Whether the listener's connection has LISTENed and not been lost since (see :attr:`listening`).
        self._listening = False
        self._closed = threading.Event()

    @property
    def listening(self) -> bool:
        """Whether releases are being heard now: read before :meth:`heard`, True means a release made after
        that read is counted (or, its connection lost meanwhile, every waiter is woken on reconnecting)."""
        return self._listening

    def heard(self, name: str) -> int:
        """Releases of ``name`` heard so far: read it before trying, pass it to :meth:`wait`."""
        with self._lock:
            return self._key(name).heard

    def wait(self, name: str, heard: int, timeout: float) -> None:
        """Sleep until a release of ``name`` newer than ``heard`` is heard, or ``timeout`` seconds pass."""
        with self._lock:
            key = self._key(name)
            if key.heard == heard:
                key.cond.wait(timeout)

    def listen(self) -> None:
        """Start the listener (once) and wait, boundedly, until it listens: a waiter that tries again after
        this cannot miss a release made after its try."""
        with self._lock:
            if self._thread is None and not self._closed.is_set():
                self._thread = threading.Thread(target=self._run, name="bm-slot-wakeups", daemon=True)
                self._thread.start()
        self._first.wait(_READY_WAIT)

    def close(self) -> None:
        self._closed.set()
        thread = self._thread
        if thread is not None:
            thread.join(_TICK * 4)
        self.wake_all()  # nobody waits for a listener that is gone

    def wake_all(self) -> None:
        with self._lock:
            for key in self._keys.values():
                key.heard += 1
                key.cond.notify_all()

    def _key(self, name: str) -> _Key:
        key = self._keys.get(name)
        if key is None:
            key = self._keys[name] = _Key(self._lock)
        return key

    def _wake(self, name: str) -> None:
        with self._lock:
            key = self._keys.get(name)
            if key is not None:  # nobody here has waited for it
                key.heard += 1
                key.cond.notify(1)  # one release, one free slot: one waiter

    def _run(self) -> None:
        quiet = False  # one warning per outage, not one per reconnection attempt
        while not self._closed.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
                    self._listening = True
                    self._first.set()
                    quiet = False
                    self.wake_all()  # a release may have gone unheard before this LISTEN
                    while not self._closed.is_set():
                        for note in conn.notifies(timeout=_TICK):
                            self._wake(note.payload)
            except psycopg.Error as exc:
                self._listening = False  # before the pause: releases go unheard until the next LISTEN
                self._first.set()
                if not quiet:
                    _log.warning("slot wake-ups: no listener connection (%s); waiters poll until it is back", exc)
                quiet = True
                self._closed.wait(_RECONNECT)
            finally:  # its connection is gone, however it ended
                self._listening = False
