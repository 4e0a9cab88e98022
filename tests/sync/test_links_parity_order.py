"""A PostgreSQL database is often made with a language's collation (``en_US``: ``a`` before ``B``, ``_`` ignored)
where SQLite compares text by its bytes: what a store orders by a text key comes back in code point order on
both, and keys stay exact text there too (such a collation orders by language but still tells ``k`` from ``K``)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from billing_milestones.sync import Link, LinkStore

from .._postgres import PostgresServer

_TEXTS = ["b", "B", "a", "_x", "\u00e9", "A", "e", "10", "9", "a b", "ab"]


@pytest.fixture(params=["sqlite", "postgresql en-US"])
def language_store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQLite store, or a PostgreSQL database whose default collation is ICU's en-US."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'links.sqlite3'}"
    import psycopg

    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"icu_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(
            f"CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.utf8'"
        )
    return server.url(name)


def test_rows_kept_by_a_text_key_come_back_in_code_point_order(language_store: str) -> None:
    with LinkStore(language_store) as store:
        if store.kind == "postgresql":  # the collation the store's texts would otherwise be ordered by
            assert store._raw("SELECT 'a' < 'B' AS language")[0]["language"] is True
        for text in _TEXTS:
            store.remember("draft", text, "v")
            store.remember(text, "main", "v")
            store.try_lease(text, "me", 60)
            store.put(Link(text, "k", "s", "t", "s", "t"))
        names = [(row["kind"], row["name"]) for row in store.dump("names")]
        assert names == sorted([("draft", t) for t in _TEXTS] + [(t, "main") for t in _TEXTS])
        assert [row["pair_id"] for row in store.dump("leases")] == sorted(_TEXTS)
        assert [row["pair_id"] for row in store.dump("pair_versions")] == sorted(_TEXTS)
        assert [row["pair_id"] for row in store.dump("links")] == _TEXTS  # links: in the order written


def test_keys_stay_exact_text_under_a_language_collation(language_store: str) -> None:
    keys = ["k", "K", "\u00e9", "e\u0301", "a b", "ab", "\u212a"]
    with LinkStore(language_store) as store:
        for key in keys:
            store.put(Link("p", key, f"s/{key}", f"t/{key}", "s", "t"))
            store.remember("draft", key, key)
        assert [ln.sync_key for ln in store.links("p")] == keys
        assert [store.recall("draft", key) for key in keys] == keys
        assert store.get("p", "\u212a") is not None and store.get("p", "KK") is None
