"""Tenant metadata kept in the link store between processes: the tier behind :class:`MetadataCache`.

The in-process cache (``_metadata_cache``) lets the clients of one process share a tenant's zone and status
picklist; every new process (each CLI run, each worker start) still paid two requests for them. The sync
engine lends its clients the run's link store (``sync.connect``), and this tier keeps the same entries in the
store's ``names`` table, so a second process reads them there within the same TTL instead of asking the API.

- **Nothing secret is written, nor anything a secret can be recovered from.** A persisted entry must be found
  again by another process, so its key cannot use the per-process HMAC key of the in-process cache; it is
  :func:`stable_key`, a SHA-256 digest of *non-secret* parts only (the platform, the host asked, the API user
  name, an impersonation id). A digest of a secret under a stable key would let whoever holds the store test
  guesses of the secret offline, so no secret is ever digested here: a client with another secret for the same
  user and host shares the entry, which is safe because the values (a zone URL, status labels) are the
  tenant's, not the credential's, and a wrong secret still fails on its first authenticated request (a 401,
  which drops the entry). The user name is digested so that the store does not show it in plain text; it is
  no secret (it travels in every request's headers, and zoneInformation takes it unauthenticated), so a
  guess of it can be confirmed against the digest, and that is all. The values hold no credential either.
- **Entries expire** ``ttl`` seconds after they were written, by the writer's wall clock (``time.time``,
  stored in the value, not the database server's clock): the in-process cache's TTL semantics. A stamp
  more than :data:`CLOCK_SKEW` seconds in the future is not ours (or a clock far off): ignored.
- **Never trusted.** A value that is not valid JSON, not this format, written under another key, or expired
  reads as a miss (:meth:`PersistedMetadata.load` returns None), and the caller fetches afresh and overwrites
  it; the caller also checks the data itself as it checks an API answer (a zone's host, a picklist's types).
- **Invalidated** with the in-process entry: :meth:`PersistedMetadata.drop` on a 401 and before a re-read.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol

__all__ = ["CLOCK_SKEW", "KIND", "Loaded", "NameStore", "PersistedMetadata", "stable_key"]

#: The ``names`` table's kind for every persisted metadata entry.
KIND: Final = "metadata"
#: The value's format; another one (a later release's) is ignored, not misread.
FORMAT: Final = 1
#: How far in the future a stamp may be (another machine's clock) and still be taken as written now.
CLOCK_SKEW: Final = 60.0
#: Separates these digests from any other SHA-256 of the same parts.
_DOMAIN: Final = b"billing-milestones persisted metadata key v1"


def stable_key(kind: str, *public: str) -> str:
    """``kind`` plus a SHA-256 digest of ``public``: the same in every process. Pass non-secret parts only
    (see the module docstring for why a secret must never be digested under a stable key)."""
    digest = hashlib.sha256(_DOMAIN)
    for part in public:
        data = part.encode()
        digest.update(len(data).to_bytes(8, "big"))  # length-prefixed: ("ab", "c") and ("a", "bc") differ
        digest.update(data)
    return f"{kind}:{digest.hexdigest()}"


class NameStore(Protocol):
    """What the tier needs of a store: the link store's remembered names."""

    def recall(self, kind: str, name: str) -> str | None: ...

    def remember(self, kind: str, name: str, value: str) -> None: ...

    def forget(self, kind: str, *names: str) -> None: ...


@dataclass(frozen=True)
class Loaded:
    """A persisted entry's data, and how many seconds of its TTL are left."""

    data: Any
    remaining: float


class PersistedMetadata:
    """JSON data under stable keys in a :class:`NameStore`, each entry for ``ttl`` seconds from its writing."""

    def __init__(self, store: NameStore, *, ttl: float, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.ttl = float(ttl)
        self._clock = clock

    def load(self, key: str) -> Loaded | None:
        """The data stored under ``key``, or None: none, expired, corrupt, another format or another key's."""
        text = self.store.recall(KIND, key)
        if text is None:
            return None
        try:
            value = json.loads(text)
        except ValueError:
            return None
        if not isinstance(value, dict) or set(value) != {"format", "key", "at", "data"}:
            return None
        at = value["at"]
        if value["format"] != FORMAT or value["key"] != key or not _finite(at):
            return None
        age = self._clock() - at
        if not -CLOCK_SKEW <= age < self.ttl:
            return None
        return Loaded(value["data"], self.ttl - max(age, 0.0))

    def save(self, key: str, data: Any) -> None:
        """Store ``data`` (JSON: no NaN, nothing but plain types) under ``key``, stamped now."""
        value = {"format": FORMAT, "key": key, "at": self._clock(), "data": data}
        self.store.remember(KIND, key, json.dumps(value, allow_nan=False, separators=(",", ":")))

    def drop(self, *keys: str) -> None:
        """Forget these entries (a 401, a re-read): the next process asks the API again."""
        self.store.forget(KIND, *keys)

    def __repr__(self) -> str:
        return f"PersistedMetadata(ttl={self.ttl:g})"


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
