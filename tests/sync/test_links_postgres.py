"""What only the PostgreSQL backend has: many openers at once, migration in place, errors without secrets."""

from __future__ import annotations

import socket
import threading

import pytest

from billing_milestones.errors import ConfigError
from billing_milestones.sync import Link, LinkStore
from billing_milestones.sync.links import SCHEMA_VERSION

from .._postgres import PostgresServer, fresh_database


def test_many_workers_opening_a_new_store_at_once_create_it_once(postgres_server: PostgresServer) -> None:
    url = fresh_database(postgres_server)
    opened: list[LinkStore] = []
    failures: list[BaseException] = []
    barrier = threading.Barrier(5)

    def open_it() -> None:
        barrier.wait()
        try:
            opened.append(LinkStore(url))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == [] and len(opened) == 5
    assert opened[0]._raw("SELECT count(*) AS n FROM meta") == [{"n": 1}]
    assert {store.kind for store in opened} == {"postgresql"}
    for store in opened:
        store.close()


def test_a_version_3_store_gains_the_run_history_in_place(postgres_server: PostgresServer) -> None:
    url = fresh_database(postgres_server)
    with LinkStore(url) as store:
        store.put(Link("p", "k1", "s1", "t1", "a", "b"))
        store._raw("DROP TABLE runs")
        store._raw("UPDATE meta SET value='3' WHERE key='schema_version'")
    with LinkStore(url) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert [ln.sync_key for ln in store.links("p")] == ["k1"] and store.runs() == []


def test_a_version_1_store_gains_desired_fingerprints_in_place(postgres_server: PostgresServer) -> None:
    url = fresh_database(postgres_server)
    with LinkStore(url) as store:
        store.put(Link("p", "k1", "s1", "t1", "a", "b", desired_fp="x"))
        store._raw("ALTER TABLE links DROP COLUMN desired_fp")
        store._raw("UPDATE meta SET value='1' WHERE key='schema_version'")
    with LinkStore(url) as store:
        (old,) = store.links("p")
        assert old.desired_fp == "" and store.schema_version() == SCHEMA_VERSION


def test_a_newer_schema_is_refused(postgres_server: PostgresServer) -> None:
    url = fresh_database(postgres_server)
    with LinkStore(url) as store:
        store._raw("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(ConfigError, match="schema version") as info:
        LinkStore(url)
    assert info.value.key == "links"


def test_an_unreachable_server_is_a_config_error_naming_links_without_the_password() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once we leave: nobody listens there
    with pytest.raises(ConfigError) as info:
        LinkStore(f"postgresql://sync:hunter2@127.0.0.1:{port}/links")
    assert info.value.key == "links" and "hunter2" not in str(info.value)
    assert f"127.0.0.1:{port}" in str(info.value)


def tcp_keepalive(fileno: int) -> tuple[int, int, int, int, int]:
    """The connection's socket as the kernel has it: keepalive on, its idle, interval, count, user timeout."""
    sock = socket.socket(fileno=socket.dup(fileno))
    try:
        return (
            sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
            sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
            sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
            sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
            sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT),
        )
    finally:
        sock.close()


def test_a_store_connection_has_tcp_keepalives_and_the_urls_own_win(postgres_server: PostgresServer) -> None:
    """A silent network drop must not block a store call for as long as the kernel retransmits: the socket
    probes an idle connection and gives it up within a minute; a value the URL sets is the one used."""
    url = fresh_database(postgres_server)
    with LinkStore(url) as store:
        assert tcp_keepalive(store.backend.conn.fileno()) == (1, 30, 10, 3, 60000)  # type: ignore[attr-defined]
    with LinkStore(url + "&keepalives_idle=7&tcp_user_timeout=9000") as store:
        assert tcp_keepalive(store.backend.conn.fileno()) == (1, 7, 10, 3, 9000)  # type: ignore[attr-defined]
