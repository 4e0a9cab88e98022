"""The store's indexes (schema version 5): only open intents are indexed, a version 4 store loses the indexes
it had beside them when it is opened, and on PostgreSQL every lookup a run makes still goes through an index
in a store of many pairs."""

from __future__ import annotations

from typing import Any

from billing_milestones.sync import Link, LinkStore
from billing_milestones.sync.links import SCHEMA_VERSION

from .._postgres import PostgresServer, fresh_database


def indexes(store: LinkStore) -> set[str]:
    if store.kind == "postgresql":
        sql = "SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema()"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'"
    return {str(row["name"]) for row in store._raw(sql)}


def test_a_new_store_indexes_open_intents_only(store_url: str) -> None:
    with LinkStore(store_url) as store:
        assert SCHEMA_VERSION == 5 == store.schema_version()
        names = indexes(store)
        assert "intents_pending" in names and not names & {"intents_open", "links_in_order"}
        done = store.begin("p", "k1", "create")
        store.finish(done)
        failed = store.begin("p", "k2", "create")
        store.finish(failed, error="refused")
        store.begin("p", "k3", "update")
        assert [i.sync_key for i in store.pending("p")] == ["k3"] == [i.sync_key for i in store.pending()]
        assert store.resolve_pending("p") == 1 and store.pending() == []


def test_a_version_4_store_drops_the_indexes_it_replaced_and_keeps_its_rows(store_url: str) -> None:
    with LinkStore(store_url) as store:
        store.put(Link("p", "k1", "s1", "t1", "a", "b"))
        store.put(Link("p", "k0", "s0", "t0", "a", "b"))
        opened = store.begin("p", "k2", "create")
        store._raw("DROP INDEX intents_pending")
        store._raw("CREATE INDEX intents_open ON intents (pair_id, state)")
        if store.kind == "postgresql":
            store._raw("CREATE INDEX links_in_order ON links (pair_id, seq)")
        store._raw("UPDATE meta SET value='4' WHERE key='schema_version'")
    with LinkStore(store_url) as store:
        assert store.schema_version() == SCHEMA_VERSION
        names = indexes(store)
        assert "intents_pending" in names and not names & {"intents_open", "links_in_order"}
        assert [ln.sync_key for ln in store.links("p")] == ["k1", "k0"]  # still in the order written
        assert [i.id for i in store.pending("p")] == [opened]


class _Recording:
    """A backend that keeps every statement it runs, for the test to explain."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.statements: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.inner, name)
        if name in ("rows", "count"):

            def recorded(sql: str, args: Any = ()) -> Any:
                self.statements.append((sql, tuple(args)))
                return value(sql, args)

            return recorded
        return value


def test_a_runs_lookups_use_indexes_in_a_store_of_many_pairs(postgres_server: PostgresServer) -> None:
    """The pair's links in order (by its key index, then a sort of its rows), its open intents and the
    closing of a crash's intents: none reads a whole table of every pair's rows."""
    with LinkStore(fresh_database(postgres_server)) as store:
        for p in range(100):
            ids = store.begin_many(f"p{p}", [(f"k{n}", "create") for n in range(50)])
            links = [Link(f"p{p}", f"k{n}", f"autotask:{p}/{n}", f"kantata:{p}/{n}", "s", "t") for n in range(50)]
            store.put_many(list(zip(links, ids, strict=True)))
        store.begin("p7", "k-open", "update")
        store._raw("ANALYZE")
        recording = _Recording(store.backend)
        store.backend = recording
        assert len(store.links("p7")) == 50 and len(store.pending("p7")) == 1 and store.resolve_pending("p7") == 1
        store.backend = recording.inner
        assert len(recording.statements) == 3
        for sql, args in recording.statements:
            plan = "\n".join(str(row["QUERY PLAN"]) for row in store._raw("EXPLAIN " + sql, args))
            assert "Seq Scan" not in plan, plan
        orders = [link.source_key for link in store.links("p7")]
        assert orders == [f"autotask:7/{n}" for n in range(50)]  # in the order written, not by key
