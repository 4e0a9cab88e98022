"""A PostgreSQL lease whose holder's session is gone is taken over at once, wherever that holder ran.

The session is the store connection the holding run took its lease on and records its intents on: once the
server has ended it (its process killed on another machine, which the PID check of ``sync/lease.py`` cannot
see), that run can begin no write, so the next run need not wait out the ttl (its pending intents are waited
out by the settle window). A live session's lease is never taken, nor one whose session is not known for its
owner (an older version's)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid

import psycopg
import pytest

from billing_milestones import errors
from billing_milestones.sync import LinkStore
from billing_milestones.sync.store._pg_statements import try_lease_statement

from .._postgres import PostgresServer, fresh_database

#: An owner on another machine: its process id means nothing here, so only its session can tell.
ELSEWHERE = "other-host:4242:abcd1234-4026531836.0123456789abcdef"


def _session_of(url: str, pair_id: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT session_pid FROM leases WHERE pair_id = %s", (pair_id,)).fetchone()
    assert row is not None and row[0] is not None
    return int(row[0])


def _until_ended(url: str, pid: int) -> None:
    """Until the server has ended backend ``pid`` (it notices a closed socket at once, but asynchronously)."""
    deadline = time.monotonic() + 20
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
            if row == (0,):
                return
            time.sleep(0.02)
    raise AssertionError(f"backend {pid} still runs")


@pytest.fixture
def url(postgres_server: PostgresServer) -> str:
    return fresh_database(postgres_server)


def test_a_holder_killed_on_another_machine_is_taken_over_at_once(url: str) -> None:
    LinkStore(url).close()  # the schema, made before the holder starts
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom billing_milestones.sync import LinkStore\n"
            f"s = LinkStore({url!r})\nassert s.try_lease('p', {ELSEWHERE!r}, 600).owner == {ELSEWHERE!r}\n"
            "print('held', flush=True)\ntime.sleep(120)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        session = _session_of(url, "p")
        store = LinkStore(url)
        with pytest.raises(errors.PairBusyError):  # alive: its lease holds (600 s)
            store.lease("p", owner="next").acquire()
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        _until_ended(url, session)
        with store.lease("p", owner="next") as lease:  # at once, not in 600 s
            assert lease.held
            assert _session_of(url, "p") != session  # the new holder's session is recorded in its place
        store.close()
    finally:
        holder.kill()
        holder.wait()


def test_a_holder_whose_session_the_server_ended_is_taken_over_and_writes_nothing_more(url: str) -> None:
    first, second = LinkStore(url), LinkStore(url)
    lease = first.lease("p", owner=ELSEWHERE).acquire()
    session = _session_of(url, "p")
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (session,))
    _until_ended(url, session)
    with second.lease("p", owner="next") as taken:
        assert taken.held
        with pytest.raises(psycopg.Error):  # the old run's next look at its lease, before any write, fails
            lease.ensure()
        with pytest.raises(psycopg.Error):  # and it cannot record an intent: its session is gone
            first.begin("p", "k", "create")
        assert second.pending("p") == []
    second.close()


def test_a_live_holders_lease_is_never_taken_over(url: str) -> None:
    first, second = LinkStore(url), LinkStore(url)
    first.lease("p", owner=ELSEWHERE).acquire()
    for _ in range(3):
        with pytest.raises(errors.PairBusyError):
            second.lease("p", owner="next").acquire()
    holder = second.lease_holder("p")
    assert holder is not None and holder.owner == ELSEWHERE
    first.close()
    second.close()


def test_a_live_holder_of_another_role_is_never_taken_over(postgres_server: PostgresServer, url: str) -> None:
    """A session of another role shows no start to a role without pg_read_all_stats: it counts as alive.
    Each role runs the store's own take statement (a store opened by another role could not make its
    indexes: the tables are the first opener's)."""
    LinkStore(url).close()
    schema = url.rsplit("%3D", 1)[1]
    roles = [f"r_{uuid.uuid4().hex[:10]}" for _ in range(3)]
    with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
        for role in roles:
            admin.execute(f"CREATE ROLE {role} LOGIN")
            admin.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}')
            admin.execute(f'GRANT ALL ON "{schema}".leases TO {role}')
    first, second, third = (psycopg.connect(url.replace("postgres@", f"{role}@"), autocommit=True) for role in roles)

    def take(conn: psycopg.Connection[tuple[object, ...]], owner: str) -> object:
        sql, args = try_lease_statement("p", owner, 600, "now")
        row = conn.execute(sql.replace("?", "%s"), tuple(args)).fetchone()
        return row[0] if row else None

    assert take(first, ELSEWHERE) == ELSEWHERE
    row = second.execute(
        "SELECT a.backend_start FROM leases l, pg_stat_get_activity(l.session_pid) a WHERE l.pair_id = 'p'"
    ).fetchone()
    assert row == (None,)  # what the taker's role sees of the holder's session: no start
    assert take(second, "next") == ELSEWHERE
    session = _session_of(url, "p")
    first.close()
    _until_ended(url, session)
    # Its pid reused by a backend of a third role, whose start the taker cannot see either: not the holder.
    reused = third.execute("SELECT pg_backend_pid()").fetchone()
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("UPDATE leases SET session_pid = %s WHERE pair_id = 'p'", reused)
    assert take(second, "next") == "next"  # its session ended: taken
    second.close()
    third.close()


def test_a_lease_whose_session_is_not_its_owners_waits_for_its_expiry(url: str) -> None:
    """An older version takes an expired lease by rewriting its owner and times, not the session columns it
    does not know: the session left there is the previous holder's, gone, but not this owner's. And a lease
    an older version took afresh has no session at all."""
    first, second = LinkStore(url), LinkStore(url)
    first.lease("p", owner=ELSEWHERE).acquire()
    session = _session_of(url, "p")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(  # the older version's takeover (its statement, from before the session columns)
            "UPDATE leases SET owner = 'older-version', heartbeat = extract(epoch FROM now()),"
            " expires_at = extract(epoch FROM now()) + 600 WHERE pair_id = 'p'"
        )
        conn.execute(
            "INSERT INTO leases (pair_id, owner, acquired_at, heartbeat, expires_at) VALUES"
            " ('q', 'older-version', 'then', extract(epoch FROM now()), extract(epoch FROM now()) + 600)"
        )
    first.close()
    _until_ended(url, session)
    for pair in ("p", "q"):
        with pytest.raises(errors.PairBusyError):
            second.lease(pair, owner="next").acquire()
    second.close()


def test_a_store_made_before_leases_kept_their_session_gets_the_columns_in_place(url: str) -> None:
    store = LinkStore(url)
    store.try_lease("held", "older-version", 600)
    store.close()
    with psycopg.connect(url, autocommit=True) as conn:  # the table as an older version made it
        for column in ("session_owner", "session_pid", "session_start", "session_role"):
            conn.execute(f"ALTER TABLE leases DROP COLUMN {column}")
    store = LinkStore(url)
    assert store.schema_version() == 5  # additive: older versions keep reading the store
    holder = store.lease_holder("held")
    assert holder is not None and holder.owner == "older-version"  # kept, as it was
    with pytest.raises(errors.PairBusyError):  # its session is not known: waited out
        LinkStore(url).lease("held", owner="next").acquire()
    store.try_lease("new", "me", 60)
    assert _session_of(url, "new") > 0
    store.close()
