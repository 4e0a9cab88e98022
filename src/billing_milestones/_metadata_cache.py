"""Metadata shared by the clients of one tenant in one process: bounded in time and size, safe to share.

A sync of many pairs builds a client per pair (a worker per job, the CLI per pair), and each fresh client
would look up the same tenant's zone and status picklist again: two requests a pair that change perhaps once
a year. This cache lets those clients share what one of them read. It is opt-in (``metadata_cache=``): the
sync engine's clients share the process-wide :data:`SHARED_METADATA`.

- **Keys never show a secret.** A key is a digest (HMAC-SHA256 under a key drawn at random when the process
  starts) of everything that decides the answer, credentials included: a client with another secret, user or
  impersonation gets its own entry, and neither the cache nor its ``repr`` holds anything from which a secret
  or a user name could be read back (nor can a digest be matched against another process's).
- **Bounded.** An entry lives ``ttl`` seconds (a renamed picklist label or a moved zone is picked up within
  it); at most ``max_entries`` are kept, the oldest dropped first.
- **Invalidated** by the clients on what says it is stale: a 401 (the tenant may have moved zones) drops the
  tenant's entries, and a re-discovered zone replaces the old one.
- **Persisted** between processes when the sync engine lends a client its link store: the same entries under
  stable, non-secret keys, for the same TTL (``_metadata_store``).
- **Thread- and asyncio-safe.** Every operation is a few dict steps under a ``threading.Lock``, never held
  across I/O or an ``await``; two clients that miss at once both fetch, and the later answer is kept.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Final

from ._checks import positive_int
from .errors import ValidationError

__all__ = ["DEFAULT_TTL", "SHARED_METADATA", "MetadataCache", "tenant_key"]

#: Seconds an entry lives unless a cache is given another ``ttl``.
DEFAULT_TTL: Final = 600.0
#: Drawn once per process: digests of the same credentials differ between processes.
_PROCESS_KEY: Final = secrets.token_bytes(32)


def tenant_key(kind: str, *parts: str) -> str:
    """``kind`` plus a digest of ``parts`` (user, secrets, host...): an opaque, per-process key."""
    mac = hmac.new(_PROCESS_KEY, digestmod=hashlib.sha256)
    for part in parts:
        data = part.encode()
        mac.update(len(data).to_bytes(8, "big"))  # length-prefixed: ("ab", "c") and ("a", "bc") differ
        mac.update(data)
    return f"{kind}:{mac.hexdigest()}"


class MetadataCache:
    """Tenant metadata (a zone, a picklist) by opaque key, each entry for ``ttl`` seconds, at most
    ``max_entries`` of them. Pass one to several clients (``metadata_cache=``) to share it among them;
    clients built by the sync engine (``sync.connect``) share :data:`SHARED_METADATA`."""

    def __init__(
        self, *, ttl: float = DEFAULT_TTL, max_entries: int = 1024, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not ttl > 0:
            raise ValidationError(f"ttl: expected a positive number of seconds, got {ttl!r}", field="ttl", value=ttl)
        positive_int(max_entries, "max_entries")
        self.ttl = float(ttl)
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        """The value stored under ``key``, or None when there is none or it has expired (then it is dropped)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if self._clock() >= entry[0]:
                del self._entries[key]
                return None
            return entry[1]

    def put(self, key: str, value: Any, *, ttl: float | None = None) -> None:
        """Store ``value`` for ``ttl`` seconds from now (the cache's, or less: what is left of a persisted
        entry's), dropping the oldest entries beyond ``max_entries``."""
        life = self.ttl if ttl is None else min(ttl, self.ttl)
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = (self._clock() + life, value)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def forget(self, *keys: str) -> None:
        """Drop these entries (a 401, a zone that moved): the next client to need them reads them again."""
        with self._lock:
            for key in keys:
                self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            now = self._clock()
            return sum(1 for expires, _ in self._entries.values() if now < expires)

    def __repr__(self) -> str:
        return f"MetadataCache(ttl={self.ttl:g}, entries={len(self)}, max_entries={self.max_entries})"


#: The process-wide cache the clients the sync engine builds share (a client built directly shares nothing
#: unless given one: a test suite mocking the API is not surprised by what an earlier test cached).
SHARED_METADATA: Final = MetadataCache()
