"""Every table and column of a store is one ``links migrate`` copies (``TABLES``), but for what is rightly
left behind: ``meta`` (the destination records its own schema version), PostgreSQL's link order (``seq``,
made again in the copied order) and its lease sessions (a backend of the old server means nothing on the new
one; a copied lease, lapsed, is judged by its expiry). A column added to the schema and not to ``TABLES``
would be dropped by every migrate without a word."""

from __future__ import annotations

from billing_milestones.sync import LinkStore
from billing_milestones.sync.store._model import TABLES

_LEFT_BEHIND = {
    "sqlite": {"meta": {"key", "value"}},
    "postgresql": {
        "meta": {"key", "value"},
        "links": {"seq"},
        "leases": {"session_owner", "session_pid", "session_start", "session_role"},
    },
}


def columns(store: LinkStore) -> dict[str, set[str]]:
    if store.kind == "postgresql":
        rows = store._raw(
            "SELECT table_name AS t, column_name AS c FROM information_schema.columns "
            "WHERE table_schema = current_schema()"
        )
    else:
        rows = store._raw(
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p "
            "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
        )
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(str(row["t"]), set()).add(str(row["c"]))
    return found


def test_every_column_of_the_store_is_copied_or_rightly_left_behind(store_url: str) -> None:
    with LinkStore(store_url) as store:
        found = columns(store)
        left = _LEFT_BEHIND[store.kind]
    assert set(found) == set(TABLES) | {"meta"}
    for table, names in found.items():
        assert names == set(TABLES.get(table, ())) | left.get(table, set()), table
