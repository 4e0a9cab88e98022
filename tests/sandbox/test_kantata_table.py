"""The Kantata milestone table's workspace index: a listing by workspace reads those workspaces' milestones
without walking the table, and answers exactly as the full scan does whatever was changed in place or from
outside."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from billing_milestones.sandbox._table import IndexedTable, Row
from billing_milestones.sandbox.kantata import KantataSandbox

KANTATA = "https://api.mavenlink.com/api/v1"


@pytest.fixture
def kantata() -> Iterator[tuple[KantataSandbox, httpx.Client, str, str]]:
    sandbox = KantataSandbox()
    mine, other = sandbox.add_workspace("Mine"), sandbox.add_workspace("Other")
    for i in range(3):
        sandbox.add_milestone(mine, f"mine {i}", 100)
        sandbox.add_milestone(other, f"other {i}", 100)
    with sandbox.http_client(base_url=KANTATA, headers={"Authorization": "Bearer tok"}) as client:
        yield sandbox, client, mine, other


def _listed(http: httpx.Client, *workspaces: str) -> list[str]:
    response = http.get("/billing_milestones", params={"workspace_ids": ",".join(workspaces), "per_page": 200})
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()["results"]]


def _full_scan(sandbox: KantataSandbox, *workspaces: str) -> list[str]:
    rows = [r for r in sandbox.milestones.values() if r.get("workspace_id") in set(workspaces)]
    return [r["id"] for r in sorted(rows, key=lambda r: (r["_seq"], int(r["id"])), reverse=True)]


def test_a_listing_by_workspace_does_not_walk_the_table(
    kantata: tuple[KantataSandbox, httpx.Client, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, http, mine, other = kantata
    walks: list[str] = []
    for name in ("items", "values", "keys", "__iter__"):
        monkeypatch.setattr(IndexedTable, name, _counted(getattr(IndexedTable, name), name, walks))
    assert len(_listed(http, mine)) == 3
    item = {"workspace_id": mine, "title": "new", "amount_in_cents": 5}
    assert http.post("/billing_milestones", json={"billing_milestone": item}).status_code == 200
    assert len(_listed(http, mine)) == 4 and len(_listed(http, mine, other)) == 7
    assert walks == []


def _counted(method: Callable[..., Any], name: str, walks: list[str]) -> Callable[..., Any]:
    def counted(self: IndexedTable[str]) -> Any:
        walks.append(name)
        return method(self)

    return counted


def _first_of(s: KantataSandbox, workspace: str) -> str:
    return str(min((r["id"] for r in s.milestones.values() if r["workspace_id"] == workspace), key=int))


def _move_in_place(s: KantataSandbox, mine: str, other: str) -> None:
    s.milestones[_first_of(s, other)]["workspace_id"] = mine


def _move_by_update(s: KantataSandbox, mine: str, other: str) -> None:
    s.milestones[_first_of(s, other)].update(workspace_id=mine)


def _move_under_another_key(s: KantataSandbox, mine: str, other: str) -> None:
    s.milestones[_first_of(s, mine)].pop("workspace_id")


def _store_plain_row(s: KantataSandbox, mine: str, other: str) -> None:
    row = {**s.milestones[_first_of(s, other)], "id": "1", "_seq": -1}
    s.milestones["1"] = row
    row["workspace_id"] = mine  # changed after it was stored: the table cannot have seen it


def _delete_one(s: KantataSandbox, mine: str, other: str) -> None:
    del s.milestones[_first_of(s, mine)]


def _pop_one(s: KantataSandbox, mine: str, other: str) -> None:
    s.milestones.pop(_first_of(s, mine))


def _replace_by_update(s: KantataSandbox, mine: str, other: str) -> None:
    ident = _first_of(s, other)
    s.milestones.update({ident: {**s.milestones[ident], "workspace_id": mine}})


def _plain_table(s: KantataSandbox, mine: str, other: str) -> None:
    s.milestones = {k: {**r, "workspace_id": mine} for k, r in s.milestones.items()}


@pytest.mark.parametrize(
    "change",
    [
        _move_in_place,
        _move_by_update,
        _move_under_another_key,
        _store_plain_row,
        _delete_one,
        _pop_one,
        _replace_by_update,
        _plain_table,
    ],
)
def test_a_listing_by_workspace_answers_as_the_full_scan_after_changes_from_outside(
    kantata: tuple[KantataSandbox, httpx.Client, str, str], change: Callable[[KantataSandbox, str, str], None]
) -> None:
    sandbox, http, mine, other = kantata
    assert _listed(http, mine) == _full_scan(sandbox, mine)  # the index is built and in use before the change
    change(sandbox, mine, other)
    for workspaces in ((mine,), (other,), (mine, other)):
        assert _listed(http, *workspaces) == _full_scan(sandbox, *workspaces)


def test_the_api_s_own_deletes_and_edits_keep_the_index(kantata: tuple[KantataSandbox, httpx.Client, str, str]) -> None:
    sandbox, http, mine, other = kantata
    first = _first_of(sandbox, mine)
    assert http.put(f"/billing_milestones/{first}", json={"billing_milestone": {"title": "renamed"}}).is_success
    assert http.delete(f"/billing_milestones/{_first_of(sandbox, other)}").status_code == 204
    assert isinstance(sandbox.milestones, IndexedTable) and not sandbox.milestones.stale
    for workspaces in ((mine,), (other,)):
        assert _listed(http, *workspaces) == _full_scan(sandbox, *workspaces)


def test_a_value_the_table_cannot_look_up_is_walked() -> None:
    table: IndexedTable[str] = IndexedTable(lambda r: r.get("workspace_id"), "workspace_id")
    table["1"] = table.row({"workspace_id": "7"})
    table["2"] = table.row({"workspace_id": ["7"]})  # no hash: a candidate of every lookup
    assert sorted(k for k, _ in table.holding(["7"]) or []) == ["1", "2"]
    assert sorted(k for k, _ in table.holding(["8"]) or []) == ["2"]
    assert table.holding([["7"]]) is None


def test_insert_stores_and_indexes_a_row_as_storing_a_row_does() -> None:
    """``table.insert(id, fields)`` leaves the table as ``table[id] = table.row(fields)`` does: the row its own,
    found by its value, moved when an id is inserted again under another value, and (the table stale) found
    after the rebuild."""

    def made(store: str) -> tuple[IndexedTable[str], list[Any]]:
        table: IndexedTable[str] = IndexedTable(lambda r: r.get("w"), "w")
        rows: list[Any] = []
        for ident, w in (("1", "a"), ("2", "b"), ("1", "b"), ("3", "a")):
            if store == "insert":
                rows.append(table.insert(ident, {"w": w}))
            else:
                table[ident] = table.row({"w": w})
                rows.append(table[ident])
        return table, rows

    for store in ("insert", "setitem"):
        table, rows = made(store)
        assert all(type(r) is Row and r._table is table for r in rows)
        assert table["1"] is rows[2] and dict(table) == {"1": {"w": "b"}, "2": {"w": "b"}, "3": {"w": "a"}}
        assert sorted(i for i, _ in table.holding(["b"]) or []) == ["1", "2"]
        assert sorted(i for i, _ in table.holding(["a"]) or []) == ["3"]
    table, _ = made("insert")
    table.stale = True
    table.insert("4", {"w": "a"})
    assert sorted(i for i, _ in table.holding(["a"]) or []) == ["3", "4"]
