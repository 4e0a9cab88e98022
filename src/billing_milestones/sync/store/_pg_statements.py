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
  after the statement, whoever that is;
- a batch of links is written by **one function call** (:data:`PUT_LINKS_FUNCTION`), whose statements the
  server plans once per connection, not once per batch.

Each function gives ``(sql, args)`` with ``?`` placeholders, as the backends take them; the SQL holds no
literal ``?`` or ``%``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

from ._model import Link

__all__ = [
    "HAS_PUT_LINKS_FUNCTION",
    "PUT_LINKS_FUNCTION",
    "begin_many_statement",
    "distinct_keys",
    "pair_lock_statement",
    "put_set_statements",
    "renew_lease_statement",
    "try_lease_statement",
]

Statement = tuple[str, Sequence[Any]]

#: The batch's elements as rows: ``e`` one JSON array per element, ``n`` its place in the batch.
_ELEMENTS: Final = "jsonb_array_elements(?::jsonb) WITH ORDINALITY AS batch(e, n)"
#: Seconds since the epoch by the server's clock, once per statement.
_NOW: Final = "(SELECT extract(epoch FROM clock_timestamp())::float8 AS t) AS clock"
#: A lease row may be taken: it is already ours, it expired (``excluded.heartbeat`` is this statement's clock),
#: or its holder's session is gone. That session is the store connection its run holds the lease on and
#: records every intent on: once the server has ended it (the process killed, on any machine: its kernel
#: closed the socket), that run can begin no write any more, and an intent it began before is pending, which
#: the next run's settle window waits out. So the next run need not wait out the ttl. The session is its
#: backend's pid, role and start, as the workers' slots judge theirs: a backend of that pid and role whose
#: start this role may not see counts as the holder's (alive), one of another role reused the pid. Judged
#: only when the session columns were written for this owner: an older version's takeover rewrites the owner
#: and leaves another holder's session behind, and is then judged by its expiry only. A holder that could
#: not see its own start (its connection runs as a role, ``SET ROLE``, without the rights of its login
#: role) recorded NULL, which no backend's start equals: any backend of its pid and role counts as it. The
#: sessions are read afresh for the judgement (``pg_stat_clear_snapshot`` first, in the argument): the
#: server reads them once per transaction, here when this statement read its own, and a holder that
#: connected and took the row while this statement waited on it is in no earlier reading.
_TAKEN: Final = (
    "(held.owner = excluded.owner OR held.expires_at <= excluded.heartbeat OR ("
    "held.session_owner = held.owner AND NOT EXISTS (SELECT 1 FROM "
    "pg_stat_get_activity((SELECT held.session_pid FROM pg_stat_clear_snapshot())) AS a WHERE a.usesysid = "
    "held.session_role AND (a.backend_start = held.session_start OR a.backend_start IS NULL "
    "OR held.session_start IS NULL))))"
)
#: What a lease row holds, every column of it rewritten by a take: the holder's or the row as it was.
_LEASE_COLUMNS: Final = (
    "owner",
    "acquired_at",
    "heartbeat",
    "expires_at",
    "session_owner",
    "session_pid",
    "session_start",
    "session_role",
)


#: The class of the transaction-scoped advisory locks that make one writer of a pair's links wait for another;
#: the second key hashes the store's schema and the pair id (stores in other schemas of the database never
#: wait on each other). A put deletes what its link replaces, then inserts it: under READ COMMITTED a second
#: writer of the same key on another connection found nothing to delete while the first had not committed,
#: then met its row in the unique index, a ``UniqueViolation`` where SQLite (one writer at a time for the whole
#: file) let the second replace the first. Waiting on the pair first, the second's statements read the first's
#: row. (The workers' liveness locks are two-key too, of a class hashed from their schema: equal to this one
#: by a 1 in 2**31 chance, and then waited for only by a pair whose hash is also a live worker's id.)
_PAIR_LOCK: Final = 0x626D706C
#: Each distinct pair of a batch's JSON array of links locked, in the order of their lock keys (two writers of
#: the same pairs never wait on each other in a cycle); counted, so the lock comes before what selects from it.
_PAIRS_LOCKED: Final = (
    f"(SELECT count(pg_advisory_xact_lock({_PAIR_LOCK}, k)) FROM (SELECT hashtext(current_schema() || '.' || "
    "(e->>0)) AS k FROM jsonb_array_elements(?::jsonb) AS e GROUP BY 1 ORDER BY 1) AS pairs) AS locked"
)


def pair_lock_statement(pair_ids: Sequence[str]) -> Statement:
    """Wait for any other writer of these pairs' links, until this transaction ends (one writer per pair)."""
    return (f"SELECT 1 FROM {_PAIRS_LOCKED}", (json.dumps([[pair] for pair in pair_ids]),))


def distinct_keys(items: Sequence[tuple[Link, int | None]]) -> bool:
    """Whether :func:`put_set_statements` may write a batch: no two of its links share a pair's sync, source
    or target key, so deleting what each replaces and inserting them all at once leaves what putting them one
    after the other leaves."""
    for column in ("sync_key", "source_key", "target_key"):
        keys = {(link.pair_id, getattr(link, column)) for link, _ in items}
        if len(keys) != len(items):
            return False
    return True


def put_set_statements(items: Sequence[tuple[Link, int | None]], now: str) -> list[Statement]:
    """:meth:`LinkStore.put` for a batch of links with distinct keys (no two share a pair's sync, source or
    target key), as one call of :data:`PUT_LINKS_FUNCTION` once any other writer of their pairs has committed
    (:data:`_PAIRS_LOCKED`): delete what they replace, insert them in order (``seq``), count the pair versions
    by the batch, close the intents. Same rows, same order, same versions as puts in turn."""
    payload = json.dumps(
        [
            [ln.pair_id, ln.sync_key, ln.source_key, ln.target_key, ln.source_fp, ln.target_fp, ln.desired_fp]
            for ln, _ in items
        ]
    )
    intents = json.dumps([intent_id for _, intent_id in items if intent_id is not None])
    return [
        ("SELECT bm_put_links_v1(?::jsonb, ?::text, ?::jsonb) FROM " + _PAIRS_LOCKED, (payload, now, intents, payload))
    ]


#: A batch's link writes as one function (PL/pgSQL), created with the store's schema when missing. Its four
#: statements were sent as one simple-protocol query, so the server parsed and planned all four for every
#: batch and the client quoted the batch's JSON text into it; a function's statements are planned once per
#: connection, and its call is bound on the server (50 links: ~0.45 -> ~0.26 ms of client CPU, ~1.5 -> ~1.0
#: ms of server CPU). Each pair's replaced links are found by its three keys as arrays made once from the
#: batch (init plans): the rows come through the pair's indexes, never by joining the batch to every link of
#: the store; the intents by their primary key. A change to the body takes a new name (``_v2``).
PUT_LINKS_FUNCTION: Final = """
CREATE FUNCTION bm_put_links_v1(batch jsonb, stamp text, closed jsonb) RETURNS void
VOLATILE LANGUAGE plpgsql AS $$
DECLARE
    pair text;
BEGIN
    FOR pair IN
        SELECT b.e->>0 FROM jsonb_array_elements(batch) WITH ORDINALITY AS b(e, n) GROUP BY b.e->>0 ORDER BY min(b.n)
    LOOP
        DELETE FROM links AS l WHERE l.pair_id = pair AND (
            l.sync_key = ANY(ARRAY(SELECT e->>1 FROM jsonb_array_elements(batch) AS e WHERE e->>0 = pair))
            OR l.source_key = ANY(ARRAY(SELECT e->>2 FROM jsonb_array_elements(batch) AS e WHERE e->>0 = pair))
            OR l.target_key = ANY(ARRAY(SELECT e->>3 FROM jsonb_array_elements(batch) AS e WHERE e->>0 = pair)));
    END LOOP;
    INSERT INTO links (pair_id, sync_key, source_key, target_key, source_fp, target_fp, updated_at, desired_fp)
    SELECT b.e->>0, b.e->>1, b.e->>2, b.e->>3, b.e->>4, b.e->>5, stamp, b.e->>6
    FROM jsonb_array_elements(batch) WITH ORDINALITY AS b(e, n) ORDER BY b.n;
    FOR pair IN
        SELECT b.e->>0 FROM jsonb_array_elements(batch) WITH ORDINALITY AS b(e, n) GROUP BY b.e->>0 ORDER BY min(b.n)
    LOOP
        INSERT INTO pair_versions AS v (pair_id, version)
        SELECT pair, count(*) FROM jsonb_array_elements(batch) AS e WHERE e->>0 = pair
        ON CONFLICT (pair_id) DO UPDATE SET version = v.version + excluded.version;
    END LOOP;
    UPDATE intents AS i SET state = 'done', finished_at = stamp
    WHERE i.id = ANY(ARRAY(SELECT value::bigint FROM jsonb_array_elements_text(closed)));
END
$$"""
#: Whether the store's own schema (``current_schema()``, where its tables are and ``CREATE FUNCTION`` puts it)
#: has the function; made under the schema lock when not, never replaced at each open. Not looked for along
#: the whole search_path: one of that name in a later schema (``public``, which any role may write on older
#: servers) would then run this store's every batch with its rights; its own, first in the path, is called.
HAS_PUT_LINKS_FUNCTION: Final = (
    "SELECT to_regprocedure(quote_ident(current_schema()) || '.bm_put_links_v1(jsonb, text, jsonb)') IS NOT NULL"
    " AS found"
)


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
    """Take the pair's lease when it is free, expired, already ``owner``'s or its holder's session is gone
    (:data:`_TAKEN`); returns the holder afterwards (``owner``, ``expires_at``). A lease held by another is
    left as it was (its row rewritten unchanged). The taker's session (this connection's backend) is recorded
    with it. Whether it is taken is decided once, in one sub-select, for every column."""
    return (
        f"INSERT INTO leases AS held (pair_id, {', '.join(_LEASE_COLUMNS)}) "
        "SELECT ?, ?, ?, clock.t, clock.t + ?, ?, me.pid, me.backend_start, me.usesysid "
        f"FROM {_NOW}, pg_stat_get_activity(pg_backend_pid()) AS me "
        f"ON CONFLICT (pair_id) DO UPDATE SET ({', '.join(_LEASE_COLUMNS)}) = (SELECT "
        + ", ".join(f"CASE WHEN d.taken THEN excluded.{column} ELSE held.{column} END" for column in _LEASE_COLUMNS)
        + f" FROM (SELECT {_TAKEN} AS taken) AS d) "
        "RETURNING held.owner, held.expires_at",
        (pair_id, owner, acquired_at, ttl, owner),
    )


def renew_lease_statement(pair_id: str, owner: str, ttl: float) -> Statement:
    """Extend ``owner``'s lease while it has not expired, by the server's clock; touches one row or none."""
    return (
        f"UPDATE leases SET heartbeat = clock.t, expires_at = clock.t + ? FROM {_NOW} "
        "WHERE pair_id = ? AND owner = ? AND expires_at > clock.t",
        (ttl, pair_id, owner),
    )
