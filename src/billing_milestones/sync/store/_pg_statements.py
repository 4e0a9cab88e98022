"""What a PostgreSQL link store does in one statement where the portable SQL of :mod:`.linkstore` takes several.

A worker's pair run talks to the store a few dozen times, and on PostgreSQL each call is a round trip: client
CPU to bind and send it, server CPU to parse and plan it. So, on PostgreSQL only:

- a batch's values travel as **one JSON text** rather than as arrays or hundreds of bound values: psycopg
  quotes one string in C instead of dumping every value of every array in Python (50 links: ~0.5 ms of
  client CPU less a batch). The server reads it as ``jsonb``, parsed once: with ``json`` each ``->>`` parses
  its element again (inserting 50 links: 0.69 ms of server time as ``json``, 0.41 as ``jsonb``, 0.45 from
  arrays);
- a lease is taken, and renewed, in **one statement** measured by the server's clock (``clock_timestamp()``,
  read once per statement), instead of a clock read, a row-locked read, a write and a read back in a
  transaction. Taking it stays atomic: ``INSERT ... ON CONFLICT DO UPDATE`` locks the row it conflicts with,
  so two runs racing for a pair are serialised and see one winner, and the row it returns is the holder
  after the statement, whoever that is.

Each function gives ``(sql, args)`` with ``?`` placeholders, as the backends take them; the SQL holds no
literal ``?`` or ``%``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any, Final

from ._model import Link

__all__ = ["begin_many_statement", "put_set_statements", "renew_lease_statement", "try_lease_statement"]

Statement = tuple[str, Sequence[Any]]

#: The batch's elements as rows: ``e`` one JSON array per element, ``n`` its place in the batch.
_ELEMENTS: Final = "jsonb_array_elements(?::jsonb) WITH ORDINALITY AS batch(e, n)"
#: Seconds since the epoch by the server's clock, once per statement.
_NOW: Final = "(SELECT extract(epoch FROM clock_timestamp())::float8 AS t) AS clock"
#: A lease row may be taken: it is already ours, or it expired (``excluded.heartbeat`` is this statement's clock).
#: Every SET expression reads the row as it was, so the four agree.
_TAKEN: Final = "(held.owner = excluded.owner OR held.expires_at <= excluded.heartbeat)"


def put_set_statements(items: Sequence[tuple[Link, int | None]], now: str) -> list[Statement]:
    """:meth:`LinkStore.put` for a batch of links with distinct keys (no two share a pair's sync, source or
    target key), as four statements: delete what they replace, insert them in order (``seq``), count the
    pair versions by the batch, close the intents. Same rows, same order, same versions as puts in turn."""
    links = [link for link, _ in items]
    payload = json.dumps(
        [
            [ln.pair_id, ln.sync_key, ln.source_key, ln.target_key, ln.source_fp, ln.target_fp, ln.desired_fp]
            for ln in links
        ]
    )
    # Each pair's replaced links by its three keys, as arrays made once from the batch (an init plan): the
    # rows are found through the pair's index, never by joining the batch to every link of the store.
    statements: list[Statement] = [
        (
            "WITH batch AS (SELECT e FROM jsonb_array_elements(?::jsonb) AS e WHERE e->>0 = ?) "
            "DELETE FROM links WHERE pair_id = ? AND (sync_key = ANY(ARRAY(SELECT e->>1 FROM batch)) "
            "OR source_key = ANY(ARRAY(SELECT e->>2 FROM batch)) OR target_key = ANY(ARRAY(SELECT e->>3 FROM batch)))",
            (payload, pair_id, pair_id),
        )
        for pair_id in dict.fromkeys(link.pair_id for link in links)
    ]
    statements.append(
        (
            "INSERT INTO links (pair_id, sync_key, source_key, target_key, source_fp, target_fp, updated_at, "
            f"desired_fp) SELECT e->>0, e->>1, e->>2, e->>3, e->>4, e->>5, ?, e->>6 FROM {_ELEMENTS} ORDER BY n",
            (now, payload),
        )
    )
    for pair_id, changes in Counter(link.pair_id for link in links).items():
        statements.append(
            (
                "INSERT INTO pair_versions (pair_id, version) VALUES (?, ?) "
                "ON CONFLICT(pair_id) DO UPDATE SET version = pair_versions.version + excluded.version",
                (pair_id, changes),
            )
        )
    intents = [intent_id for _, intent_id in items if intent_id is not None]
    if intents:
        statements.append(
            (
                "UPDATE intents SET state='done', finished_at=? WHERE id = "
                "ANY(ARRAY(SELECT value::bigint FROM jsonb_array_elements_text(?::jsonb)))",  # by the primary key
                (now, json.dumps(intents)),
            )
        )
    return statements


def begin_many_statement(pair_id: str, writes: Sequence[tuple[str, str]], now: str) -> Statement:
    """The intents of a batch about to be written, as one insert of pending rows (``RETURNING id, sync_key``,
    so the caller matches ids back by sync key); the writes' sync keys must be distinct."""
    payload = json.dumps([[key, action] for key, action in writes])
    return (
        "INSERT INTO intents (pair_id, sync_key, action, state, detail, created_at) "
        f"SELECT ?, e->>0, e->>1, 'pending', NULL, ? FROM {_ELEMENTS} ORDER BY n RETURNING id, sync_key",
        (pair_id, now, payload),
    )


def try_lease_statement(pair_id: str, owner: str, ttl: float, acquired_at: str) -> Statement:
    """Take the pair's lease when it is free, expired or already ``owner``'s; returns the holder afterwards
    (``owner``, ``expires_at``). A lease held by another is left as it was (its row rewritten unchanged)."""
    return (
        "INSERT INTO leases AS held (pair_id, owner, acquired_at, heartbeat, expires_at) "
        f"SELECT ?, ?, ?, clock.t, clock.t + ? FROM {_NOW} "
        "ON CONFLICT (pair_id) DO UPDATE SET "
        + ", ".join(
            f"{column} = CASE WHEN {_TAKEN} THEN excluded.{column} ELSE held.{column} END"
            for column in ("owner", "acquired_at", "heartbeat", "expires_at")
        )
        + " "
        "RETURNING held.owner, held.expires_at",
        (pair_id, owner, acquired_at, ttl),
    )


def renew_lease_statement(pair_id: str, owner: str, ttl: float) -> Statement:
    """Extend ``owner``'s lease while it has not expired, by the server's clock; touches one row or none."""
    return (
        f"UPDATE leases SET heartbeat = clock.t, expires_at = clock.t + ? FROM {_NOW} "
        "WHERE pair_id = ? AND owner = ? AND expires_at > clock.t",
        (ttl, pair_id, owner),
    )
