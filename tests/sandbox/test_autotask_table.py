"""The Autotask milestone table's contract index: a query by contract reads that contract's rows without
walking the table, and answers exactly as the full scan does whatever was changed in place or from outside."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from billing_milestones.sandbox._encode import encode
from billing_milestones.sandbox._table import UNKEYED, Row, keyed
from billing_milestones.sandbox.autotask import AutotaskSandbox, _query
from billing_milestones.sandbox.autotask._table import MilestoneTable, contract_key

AUTOTASK = "https://webservices.autotask.net/ATServicesRest/V1.0"


@pytest.fixture
def autotask() -> Iterator[tuple[AutotaskSandbox, httpx.Client, int, int]]:
    sandbox = AutotaskSandbox()
    headers = {"ApiIntegrationCode": sandbox.INTEGRATION_CODE, "UserName": sandbox.USERNAME, "Secret": sandbox.SECRET}
    mine, other = sandbox.add_contract(), sandbox.add_contract()
    for i in range(4):
        sandbox.add_milestone(mine, title=f"mine {i}")
        sandbox.add_milestone(other, title=f"other {i}")
    with sandbox.http_client(base_url=AUTOTASK, headers=headers) as client:
        yield sandbox, client, mine, other


def _titles(http: httpx.Client, contract: Any) -> list[str]:
    query = {"filter": [{"op": "eq", "field": "contractID", "value": contract}]}
    response = http.post("/ContractMilestones/query", content=encode(query))
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


def _full_scan(sandbox: AutotaskSandbox, contract: Any) -> list[str]:
    item = {"op": "eq", "field": "contractID", "value": contract}
    return [r["title"] for _, r in sorted(sandbox.milestones.items()) if _query.evaluate(item, r)]


def test_a_query_by_contract_does_not_walk_the_table(
    autotask: tuple[AutotaskSandbox, httpx.Client, int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, http, mine, _ = autotask
    walks: list[int] = []
    items = MilestoneTable.items

    def counted(self: MilestoneTable) -> Any:
        walks.append(1)
        return items(self)

    monkeypatch.setattr(MilestoneTable, "items", counted)
    assert _titles(http, mine) == [f"mine {i}" for i in range(4)]
    created = http.post(
        f"/Contracts/{mine}/Milestones",
        json={"title": "new", "amount": 5, "dateDue": "2027-01-01", "status": 1, "isInitialPayment": False},
    )
    assert created.status_code == 200, created.text
    assert _titles(http, mine)[-1] == "new"
    assert walks == []  # creates and seeds keep the index; nothing rebuilt it


def _move_in_place(s: AutotaskSandbox, mine: int, other: int) -> None:
    s.milestones[min(k for k, r in s.milestones.items() if r["contractID"] == other)]["contractID"] = mine


def _move_as_text(s: AutotaskSandbox, mine: int, other: int) -> None:
    s.milestones[max(s.milestones)]["contractID"] = str(mine)


def _move_by_update(s: AutotaskSandbox, mine: int, other: int) -> None:
    s.milestones[max(s.milestones)].update(contractID=Decimal(mine))


def _move_under_another_case(s: AutotaskSandbox, mine: int, other: int) -> None:
    row = s.milestones[max(s.milestones)]
    del row["contractID"]
    row.setdefault("ContractId", mine)  # the filter reads field names without regard to case


def _drop_contract(s: AutotaskSandbox, mine: int, other: int) -> None:
    s.milestones[min(s.milestones)].pop("contractID")


def _store_plain_row(s: AutotaskSandbox, mine: int, other: int) -> None:
    row = {"id": 1, "contractID": other, "title": "plain", "status": 1, "isInitialPayment": False}
    s.milestones[1] = row
    row["contractID"] = mine  # changed after it was stored: the table cannot have seen it


def _delete_a_row(s: AutotaskSandbox, mine: int, other: int) -> None:
    del s.milestones[min(s.milestones)]


def _pop_a_row(s: AutotaskSandbox, mine: int, other: int) -> None:
    s.milestones.pop(min(s.milestones))


def _replace_a_row(s: AutotaskSandbox, mine: int, other: int) -> None:
    top = max(s.milestones)
    s.milestones.update({top: {**s.milestones[top], "contractID": mine}})


def _plain_table(s: AutotaskSandbox, mine: int, other: int) -> None:
    s.milestones = {k: {**r, "contractID": mine} for k, r in s.milestones.items()}


@pytest.mark.parametrize(
    "change",
    [
        _move_in_place,
        _move_as_text,
        _move_by_update,
        _move_under_another_case,
        _drop_contract,
        _store_plain_row,
        _delete_a_row,
        _pop_a_row,
        _replace_a_row,
        _plain_table,
    ],
)
def test_a_query_by_contract_answers_as_the_full_scan_after_changes_from_outside(
    autotask: tuple[AutotaskSandbox, httpx.Client, int, int], change: Callable[[AutotaskSandbox, int, int], None]
) -> None:
    sandbox, http, mine, other = autotask
    assert _titles(http, mine) == _full_scan(sandbox, mine)  # the index is built and in use before the change
    change(sandbox, mine, other)
    for contract in (mine, other, str(mine), Decimal(other)):
        assert _titles(http, contract) == _full_scan(sandbox, contract)


def test_a_contract_value_a_dict_cannot_find_is_always_a_candidate() -> None:
    table = MilestoneTable()
    table[1] = table.row({"id": 1, "contractID": 7})
    table[2] = table.row({"id": 2, "contractID": Decimal("sNaN")})  # no hash
    table[3] = table.row({"id": 3, "contractID": [7]})  # not a value the filter compares as a number or text
    assert keyed(contract_key(table[2])) is UNKEYED and keyed(contract_key(table[3])) is UNKEYED
    assert contract_key(table[1]) == Decimal(7) and contract_key({"CONTRACTID": "7"}) == Decimal(7)
    assert sorted(k for k, _ in table.of_contract(Decimal(7)) or []) == [1, 2, 3]
    assert table.of_contract([7]) is None  # the caller walks every row
    assert isinstance(table[1], Row)
