"""A store of a newer schema version is refused and left exactly as it was: the tables, indexes and function
an opener creates when missing are made in the same transaction as the version check, so the refusal undoes
them (a newer version that dropped one must not find it made again by an older SDK that only looked)."""

from __future__ import annotations

import pytest

from billing_milestones.errors import ConfigError
from billing_milestones.sync import Link, LinkStore
from billing_milestones.sync.links import SCHEMA_VERSION
from billing_milestones.sync.store._backend import Backend
from billing_milestones.sync.store.linkstore import open_backend


def objects(backend: Backend) -> set[str]:
    """Every table, index and function of the store, by name."""
    if backend.kind == "postgresql":
        sql = (
            "SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() UNION ALL SELECT p.proname FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema()"
        )
    else:
        sql = "SELECT name FROM sqlite_master"
    return {str(row["name"]) for row in backend.rows(sql)}


def test_a_newer_store_is_refused_and_nothing_is_made_again_in_it(store_url: str) -> None:
    with LinkStore(store_url) as store:
        store.put(Link("p", "k1", "s1", "t1", "a", "b"))
        store._raw("DROP INDEX intents_pending")  # what a later version might do
        store._raw("DROP TABLE runs")
        if store.kind == "postgresql":
            store._raw("DROP FUNCTION bm_put_links_v1(jsonb, text, jsonb)")
        store._raw("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 1),))
        before = objects(store.backend)
    assert not before & {"intents_pending", "runs", "bm_put_links_v1"}
    with pytest.raises(ConfigError, match="schema version"):
        LinkStore(store_url)
    backend = open_backend(store_url)
    try:
        assert objects(backend) == before
        assert backend.rows("SELECT sync_key FROM links") == [{"sync_key": "k1"}]
        assert backend.rows("SELECT value FROM meta") == [{"value": str(SCHEMA_VERSION + 1)}]
    finally:
        backend.close()
