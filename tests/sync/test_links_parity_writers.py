"""Writers on several connections, and writes that fail or are cut off, leave every backend in the same state:
a second writer of a pair waits for the first and then replaces its link (as SQLite's one writer at a time
did, where PostgreSQL refused it as a duplicate key); a failed or refused commit leaves no transaction open
and nothing of it written; a process or connection cut mid-batch leaves nothing half-written."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from billing_milestones.sync import Link, LinkStore

from .._postgres import PostgresServer, fresh_database


def _link(key: str, target: str, pair: str = "p") -> Link:
    return Link(pair, key, f"autotask:1/{key}", f"kantata:2/{target}", "sfp", target)


@contextlib.contextmanager
def _blocked(first: LinkStore, second: LinkStore, write: Callable[[LinkStore], None]) -> Iterator[list[str]]:
    """Run ``write`` on ``second`` in a thread while ``first`` holds a transaction open (the caller's ``with``
    body), and wait for it once ``first`` has committed; yields what it ended with."""
    ended: list[str] = []

    def run() -> None:
        try:
            write(second)
            ended.append("ok")
        except Exception as exc:  # the outcome is what is compared
            ended.append(f"{type(exc).__name__}: {exc}")

    thread = threading.Thread(target=run)
    try:
        with first.backend.transaction():
            first.put(_link("k1", "first"))
            first.put_many([(_link("k2", "first-2"), None), (_link("k3", "first-3"), None)])
            thread.start()
            _until_waiting(second)
            yield ended
    finally:
        if thread.ident is not None:
            thread.join(30)
    assert not thread.is_alive()


def _until_waiting(store: LinkStore) -> None:
    """On PostgreSQL until ``store``'s session waits for a lock (bounded); SQLite's waiter cannot be seen,
    and is given a moment to start (a write begun after the commit passes either way)."""
    if store.kind != "postgresql":
        time.sleep(0.3)
        return
    import psycopg

    pid = store.backend.conn.info.backend_pid  # type: ignore[attr-defined]
    with psycopg.connect(store.backend.conn.info.dsn, autocommit=True) as watcher:  # type: ignore[attr-defined]
        for _ in range(300):
            row = watcher.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
            if row is not None and row[0] == "Lock":
                return
            time.sleep(0.01)
    raise AssertionError("the second writer never waited for the first")


@pytest.mark.parametrize("path", ["put", "put_many", "put_many shared keys", "remove"])
def test_a_second_writer_of_a_pair_waits_for_the_first_and_replaces_its_link(store_url: str, path: str) -> None:
    writes: dict[str, Callable[[LinkStore], None]] = {
        "put": lambda s: s.put(_link("k1", "second")),
        "put_many": lambda s: s.put_many([(_link("k1", "second"), None), (_link("k3", "second-3"), None)]),
        "put_many shared keys": lambda s: s.put_many([(_link("k1", "second"), None), (_link("k1", "second"), None)]),
        "remove": lambda s: s.remove("p", "k1"),
    }
    with LinkStore(store_url) as first, LinkStore(store_url) as second:
        with _blocked(first, second, writes[path]) as ended:
            assert ended == []  # not before the first writer commits
        assert ended == ["ok"]
        links = {ln.sync_key: ln.target_key for ln in first.links("p")}
        expected = {
            "put": ({"k1": "kantata:2/second", "k2": "kantata:2/first-2", "k3": "kantata:2/first-3"}, 4),
            "put_many": ({"k1": "kantata:2/second", "k2": "kantata:2/first-2", "k3": "kantata:2/second-3"}, 5),
            "put_many shared keys": (
                {"k1": "kantata:2/second", "k2": "kantata:2/first-2", "k3": "kantata:2/first-3"},
                5,
            ),
            "remove": ({"k2": "kantata:2/first-2", "k3": "kantata:2/first-3"}, 4),
        }[path]
        assert (links, first.version("p")) == expected


def test_writers_of_other_pairs_or_other_stores_do_not_wait_for_each_other_on_postgresql(
    postgres_server: PostgresServer,
) -> None:
    url, elsewhere = fresh_database(postgres_server), fresh_database(postgres_server)  # two schemas, one database
    with LinkStore(url) as first, LinkStore(url) as second, LinkStore(elsewhere) as third:
        for store in (second, third):  # a write that waits fails (LockNotAvailable) instead of hanging
            store._raw("SET lock_timeout = '10s'")
        with first.backend.transaction():
            first.put(_link("k1", "first"))
            second.put(_link("k1", "other", pair="q"))  # would hang here if pairs shared one lock
            second.put_many([(_link("k2", "other-2", pair="q"), None)])
            third.put(_link("k1", "third"))  # the same pair id in another store
            third.put_many([(_link("k2", "third-2"), None)])
        assert [ln.sync_key for ln in second.links("q")] == ["k1", "k2"] and [
            ln.target_key for ln in second.links("p")
        ] == ["kantata:2/first"]
        assert [ln.target_key for ln in third.links("p")] == ["kantata:2/third", "kantata:2/third-2"]


def _trap(store: LinkStore) -> str:
    """A table whose row makes the transaction's COMMIT fail (a constraint checked at commit); its insert."""
    if store.kind == "sqlite":
        store._raw("PRAGMA foreign_keys = ON")
        store._raw("CREATE TABLE trap_parent (y INTEGER PRIMARY KEY)")
        store._raw("CREATE TABLE trap (x INTEGER REFERENCES trap_parent (y) DEFERRABLE INITIALLY DEFERRED)")
    else:
        store._raw("CREATE TABLE trap (x INTEGER)")
        store._raw(
            "CREATE FUNCTION trap_fail() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$"
        )
        store._raw(
            "CREATE CONSTRAINT TRIGGER trap_at_commit AFTER INSERT ON trap DEFERRABLE INITIALLY DEFERRED "
            "FOR EACH ROW EXECUTE FUNCTION trap_fail()"
        )
    return "INSERT INTO trap (x) VALUES (1)"


def test_a_commit_the_database_refuses_leaves_nothing_written_and_no_transaction_open(store_url: str) -> None:
    """SQLite keeps a transaction open when its COMMIT fails: every later write of the store joined it, never
    to be committed (and a new transaction could not begin). Both now roll it back, as PostgreSQL does."""
    with LinkStore(store_url) as store, LinkStore(store_url) as other:
        trap = _trap(store)
        intent = store.begin("p", "k1", "create")
        with pytest.raises(Exception, match=r"(?i)foreign key|refused at commit"), store.backend.transaction():
            store.put(_link("k1", "one"), intent_id=intent)
            store._raw(trap)
        assert store.links("p") == [] and store.version("p") == 0 and [i.id for i in store.pending()] == [intent]
        store.put(_link("k2", "two"))
        assert [ln.sync_key for ln in other.links("p")] == ["k2"]  # committed, not held in a leftover transaction


def test_an_error_inside_a_transaction_leaves_none_open(store_url: str) -> None:
    with LinkStore(store_url) as store, LinkStore(store_url) as other:
        with pytest.raises(KeyboardInterrupt), store.backend.transaction():
            store.put(_link("k1", "one"))
            raise KeyboardInterrupt  # Ctrl-C in a notebook, between two writes
        with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
            store.backend.batch([("INSERT INTO meta (key, value) VALUES ('schema_version', '0')", ())])
        store.put(_link("k2", "two"))
        assert [ln.sync_key for ln in other.links("p")] == ["k2"] and other.version("p") == 1


_KILLED_MID_BATCH = """
import os, signal, sys
from billing_milestones.sync import Link, LinkStore
store = LinkStore(sys.argv[1])
ids = store.begin_many("p", [("k1", "create"), ("k2", "create"), ("k3", "create")])
with store.backend.transaction():
    store.put_many([(Link("p", f"k{n}", f"s{n}", f"t{n}", "s", "t"), ids[n - 1]) for n in (1, 2)])
    store.put(Link("p", "k3", "s3", "t3", "s", "t"), intent_id=ids[2])
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_process_killed_mid_batch_leaves_nothing_of_it_written(store_url: str) -> None:
    done = subprocess.run([sys.executable, "-c", _KILLED_MID_BATCH, store_url], capture_output=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()
    with LinkStore(store_url) as store:
        assert list(store) == [] and store.version("p") == 0
        assert [i.sync_key for i in store.pending("p")] == ["k1", "k2", "k3"]
        store.put(Link("p", "k1", "s1", "t1", "s", "t"))  # and the pair writes again (no lock left behind)
        assert store.version("p") == 1


def test_a_connection_cut_mid_batch_leaves_nothing_of_it_written(postgres_server: PostgresServer) -> None:
    """The batch's link is written and its version counted, then it waits on its intent's row: the server
    ends that session there. Nothing of the batch is kept, and the store says it cannot serve another run."""
    import psycopg

    url = fresh_database(postgres_server)
    with LinkStore(url) as store, LinkStore(url) as other:
        intent = store.begin("p", "k1", "create")
        failed: list[BaseException] = []

        def put() -> None:
            try:
                store.put(_link("k1", "one"), intent_id=intent)
            except BaseException as exc:  # the outcome is what is checked
                failed.append(exc)

        pid = store.backend.conn.info.backend_pid  # type: ignore[attr-defined]
        with other.backend.transaction():
            other._raw("SELECT id FROM intents WHERE id = ? FOR UPDATE", (intent,))
            thread = threading.Thread(target=put)
            thread.start()
            _until_waiting(store)
            assert other._raw("SELECT pg_terminate_backend(?) AS ended", (pid,)) == [{"ended": True}]
        thread.join(30)
        assert len(failed) == 1 and isinstance(failed[0], psycopg.OperationalError)
        assert not store.reusable()
        assert other.links("p") == [] and other.version("p") == 0 and [i.id for i in other.pending()] == [intent]


def test_a_transaction_the_database_already_ended_reports_the_error_that_ended_it(store_url: str) -> None:
    """SQLite rolls a transaction back by itself on some errors (a full disk, an I/O error, an interrupt):
    its ROLLBACK after that raised 'no transaction is active' in place of the error the caller must see."""
    with LinkStore(store_url) as store, LinkStore(store_url) as other:
        with pytest.raises(ValueError, match="the error that ended it"), store.backend.transaction():
            store.put(_link("k1", "one"))
            store._raw("ROLLBACK")  # as the database does on such an error
            raise ValueError("the error that ended it")
        store.put(_link("k2", "two"))
        assert [ln.sync_key for ln in other.links("p")] == ["k2"]
