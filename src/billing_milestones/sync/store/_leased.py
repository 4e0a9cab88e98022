"""Store calls that renew the pair's lease in the round trip that needs it, rather than in one of its own.

Every write of a run is preceded by a look at its lease (``Lease.ensure``: one ``UPDATE`` that extends it by
the server's clock, or finds it gone): before the run reads what it checks (the links' version, the pending
intents) and before each intent it records. On PostgreSQL each look was a round trip of its own beside the
call that followed it; here the renewal is a data-modifying ``WITH`` of that call, run exactly once and
before the call's rows are returned, so the call sees the lease renewed or does nothing:

- :func:`renew_and_read`: the lease renewed, the links' version and the pending intents read, in one
  statement (was three). ``None`` when the lease was not renewed; nothing else happened then.
- :func:`begin_leased`: the lease renewed and the batch's intents recorded, in one statement (was two), the
  intents only when the renewal found the lease still ours. ``None`` when it did not: no intent was recorded.

- :func:`restamp_leased`: the lease renewed and the given pending intents stamped now, in one statement,
  the stamp only when the renewal found the lease ours. False when it did not: nothing changed. The sync
  engine makes it before an attempt of a write is sent (``sync._write_check``).

What the caller sees is what ``ensure`` then the call gave: the same rows, the same renewal, the same
refusal (the caller turns ``None`` into ``LeaseLostError`` through the lease itself). SQLite runs the calls
one after the other as before (in process, nothing to save).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from ._model import TABLES, Intent, now_text
from ._pg_statements import renew_lease_statement
from ._values import checked_writes

if TYPE_CHECKING:
    from .linkstore import LinkStore

__all__ = ["ApplyState", "begin_leased", "renew_and_read", "restamp_leased"]

_INTENT_COLUMNS: Final = TABLES["intents"]
#: ``owner``'s lease extended while it has not expired: the very statement of ``renew_lease``, as a ``WITH``
#: whose rows say whether it was (its arguments first: ttl, lease pair id, owner).
_RENEWED: Final = f"WITH renewed AS ({renew_lease_statement('', '', 0.0)[0]} RETURNING 1) "
#: The version and the pending intents (none: one row of NULLs), beside the renewal's count.
_READ: Final = (
    _RENEWED
    + "SELECT (SELECT count(*) FROM renewed) AS renewed, (SELECT version FROM pair_versions WHERE pair_id = ?) "
    f"AS version, {', '.join(f'i.{c}' for c in _INTENT_COLUMNS)} FROM (SELECT 1) AS one LEFT JOIN "
    f"(SELECT {', '.join(_INTENT_COLUMNS)} FROM intents WHERE state = 'pending' AND pair_id = ?) AS i ON true "
    "ORDER BY i.id"
)
#: The batch's pending intents, recorded only when the renewal found the lease ours.
_BEGIN: Final = (
    _RENEWED + "INSERT INTO intents (pair_id, sync_key, action, state, detail, created_at) "
    "SELECT ?, e->>0, e->>1, 'pending', NULL, ? FROM jsonb_array_elements(?::jsonb) WITH ORDINALITY AS batch(e, n) "
    "WHERE EXISTS (SELECT 1 FROM renewed) ORDER BY n RETURNING id, sync_key"
)

#: The given intents, still pending, stamped now, only when the renewal found the lease ours (the ids as one
#: JSON array); the renewal's count is the answer.
_RESTAMP: Final = (
    _RENEWED + ", stamped AS (UPDATE intents SET created_at = ? WHERE id IN (SELECT value::bigint FROM "
    "jsonb_array_elements_text(?::jsonb)) AND state = 'pending' AND EXISTS (SELECT 1 FROM renewed) RETURNING 1) "
    "SELECT count(*) AS renewed FROM renewed"
)
#: SQLite's stamp, made in the transaction of the renewal that found the lease ours.
_RESTAMP_SQLITE: Final = (
    "UPDATE intents SET created_at = ? WHERE id IN (SELECT value FROM json_each(?)) AND state = 'pending'"
)


@dataclass(frozen=True)
class ApplyState:
    """What a run checks before it writes, read under its renewed lease: the pair's links' version and the
    intents a stopped run left pending (a source of them for ``settle_pending``)."""

    version: int
    intents: tuple[Intent, ...]

    def pending(self, pair_id: str | None = None) -> Sequence[Intent]:
        """The pending intents as read (``settle_pending`` asks its source this way)."""
        return self.intents


def renew_and_read(store: LinkStore, pair_id: str, lease_id: str, owner: str, ttl: float) -> ApplyState | None:
    """Renew ``owner``'s lease of ``lease_id`` for ``ttl`` seconds, then read ``pair_id``'s links' version and
    pending intents; None, having read nothing, when the lease is no longer ``owner``'s."""
    if store.kind != "postgresql":
        if not store.renew_lease(lease_id, owner, ttl):
            return None
        return ApplyState(store.version(pair_id), tuple(store.pending(pair_id)))
    renewal = renew_lease_statement(lease_id, owner, ttl)[1]
    rows = store.backend.rows(_READ, (*renewal, pair_id, pair_id))
    if not rows or not rows[0]["renewed"]:
        return None
    version = rows[0]["version"]
    intents = tuple(Intent(**{c: row[c] for c in _INTENT_COLUMNS}) for row in rows if row["id"] is not None)
    return ApplyState(int(version) if version is not None else 0, intents)


def begin_leased(
    store: LinkStore, pair_id: str, writes: Sequence[tuple[str, str]], lease_id: str, owner: str, ttl: float
) -> list[int] | None:
    """Renew ``owner``'s lease of ``lease_id``, then record ``writes`` (``(sync_key, action)``) as pending
    intents of ``pair_id`` as :meth:`LinkStore.begin_many` does; their ids in order, or None, nothing recorded,
    when the lease is no longer ``owner``'s."""
    keys = [key for key, _ in checked_writes(pair_id, writes)]  # before the lease is renewed: nothing done
    if not writes:
        return [] if store.renew_lease(lease_id, owner, ttl) else None
    if store.kind != "postgresql" or len(set(keys)) != len(keys):
        # One transaction: the intents are recorded while the renewed lease is still ours (a takeover
        # between the two would read no intent of ours and so not wait for the write that follows).
        with store.backend.transaction():
            if not store.renew_lease(lease_id, owner, ttl):
                return None
            return store.begin_many(pair_id, writes)
    payload = json.dumps([[key, action] for key, action in writes])
    renewal = renew_lease_statement(lease_id, owner, ttl)[1]
    rows = store.backend.rows(_BEGIN, (*renewal, pair_id, now_text(), payload))
    if not rows:
        return None
    found = {str(row["sync_key"]): int(row["id"]) for row in rows}
    return [found[key] for key in keys]


def restamp_leased(store: LinkStore, lease_id: str, owner: str, ttl: float, intent_ids: Sequence[int]) -> bool:
    """Renew ``owner``'s lease of ``lease_id``, then stamp ``intent_ids`` (those still pending) with now, as
    their ``created_at``: what the settle window of a rerun measures from. False, nothing renewed or stamped,
    when the lease is no longer ``owner``'s. One statement on PostgreSQL; on SQLite both in one transaction,
    so a takeover (a transaction of its own) comes wholly before the renewal, which then fails, or after
    the stamp, which the taker then reads."""
    ids = json.dumps([int(intent_id) for intent_id in intent_ids])
    if store.kind != "postgresql":
        with store.backend.transaction():
            if not store.renew_lease(lease_id, owner, ttl):
                return False
            store.backend.count(_RESTAMP_SQLITE, (now_text(), ids))
        return True
    renewal = renew_lease_statement(lease_id, owner, ttl)[1]
    rows = store.backend.rows(_RESTAMP, (*renewal, now_text(), ids))
    return bool(rows and rows[0]["renewed"])
