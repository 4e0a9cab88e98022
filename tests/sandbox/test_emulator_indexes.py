"""The emulators stay linear in the size of their store: a milestone's Kantata references are found through
an index (a bulk create into a store of many milestones used to scan every reference once per milestone),
and an Autotask query by contract evaluates its filters on that contract's rows only. Same answers as the
full scans: each check compares with what the filters say."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from billing_milestones.sandbox.autotask import AutotaskSandbox, _query
from billing_milestones.sandbox.autotask import _reads as autotask_reads
from billing_milestones.sandbox.kantata import KantataSandbox

KANTATA = "https://api.mavenlink.com/api/v1"
AUTOTASK = "https://webservices.autotask.net/ATServicesRest/V1.0"


class _CountingDict(dict[str, Any]):
    """A table that counts how often it is walked whole."""

    walks = 0

    def values(self) -> Any:
        type(self).walks += 1
        return super().values()

    def items(self) -> Any:
        type(self).walks += 1
        return super().items()


@pytest.fixture
def kantata() -> Iterator[tuple[KantataSandbox, httpx.Client]]:
    sandbox = KantataSandbox()
    with sandbox.http_client(base_url=KANTATA, headers={"Authorization": "Bearer tok"}) as client:
        yield sandbox, client


def _create(http: httpx.Client, workspace: str, keys: list[str]) -> list[str]:
    items = [
        {
            "workspace_id": workspace,
            "title": key,
            "amount_in_cents": 1,
            "external_reference": {"service_name": "sync", "service_model": "Milestone", "service_model_ref": key},
        }
        for key in keys
    ]
    response = http.post("/billing_milestones", json={"billing_milestones": items})
    assert response.status_code == 200
    return [r["id"] for r in response.json()["results"]]


def test_a_bulk_create_finds_references_without_walking_the_table(
    kantata: tuple[KantataSandbox, httpx.Client],
) -> None:
    sandbox, http = kantata
    workspace = sandbox.add_workspace()
    _create(http, workspace, [f"a{i}" for i in range(40)])
    sandbox.external_references = _CountingDict(sandbox.external_references)
    _CountingDict.walks = 0
    _create(http, workspace, [f"b{i}" for i in range(40)])
    assert _CountingDict.walks <= 1  # at most one rebuild of the index for a table it has not seen
    assert len(sandbox.external_references) == 80


def test_references_by_milestone_after_creates_updates_deletes_and_outside_changes(
    kantata: tuple[KantataSandbox, httpx.Client],
) -> None:
    sandbox, http = kantata
    workspace = sandbox.add_workspace()
    first, second, third = _create(http, workspace, ["k1", "k2", "k3"])
    ref = {"service_name": "sync", "service_model": "Milestone", "service_model_ref": "k2-again"}
    assert http.put(f"/billing_milestones/{second}", json={"billing_milestone": {"external_reference": ref}}).is_success
    assert [r["service_model_ref"] for r in sandbox._refs_of(second)] == ["k2-again"]  # updated, not added
    assert http.delete(f"/billing_milestones/{first}").status_code == 204
    assert sandbox._refs_of(first) == []
    # A reference written into the table directly (as a test might) is found too, and the others still are.
    sandbox.external_references["1"] = {"id": "1", "subject_type": "BillingMilestone", "subject_id": int(third)}
    assert [r["id"] for r in sandbox._refs_of(third)][-1] == "1"
    assert [r["service_model_ref"] for r in sandbox._refs_of(second)] == ["k2-again"]
    every = {
        m: [r for r in sandbox.external_references.values() if r["subject_id"] == int(m)]
        for m in (first, second, third)
    }
    assert {m: sandbox._refs_of(m) for m in every} == every


def test_a_reference_put_in_for_a_milestone_not_yet_created_is_the_one_its_create_updates(
    kantata: tuple[KantataSandbox, httpx.Client],
) -> None:
    """A create looks its milestone's references up unless the index is whole and holds none for it."""
    sandbox, http = kantata
    workspace = sandbox.add_workspace()
    (first,) = _create(http, workspace, ["k1"])
    upcoming = str(int(first) + 1)
    sandbox.external_references["ref-x"] = {
        "id": "ref-x",
        "service_name": "sync",
        "service_model_ref": "old",
        "subject_type": "BillingMilestone",
        "subject_id": int(upcoming),
    }
    (made,) = _create(http, workspace, ["k2"])
    assert made == upcoming
    assert [(r["id"], r["service_model_ref"]) for r in sandbox._refs_of(made)] == [("ref-x", "k2")]
    assert len(sandbox.external_references) == 2


@pytest.fixture
def autotask() -> Iterator[tuple[AutotaskSandbox, httpx.Client]]:
    sandbox = AutotaskSandbox()
    headers = {"ApiIntegrationCode": sandbox.INTEGRATION_CODE, "UserName": sandbox.USERNAME, "Secret": sandbox.SECRET}
    with sandbox.http_client(base_url=AUTOTASK, headers=headers) as client:
        yield sandbox, client


def _titles(http: httpx.Client, filters: list[dict[str, Any]]) -> list[str]:
    response = http.post("/ContractMilestones/query", json={"filter": filters})
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


def test_a_query_by_contract_evaluates_only_that_contracts_rows(
    autotask: tuple[AutotaskSandbox, httpx.Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox, http = autotask
    mine, other = sandbox.add_contract(), sandbox.add_contract()
    for i in range(30):
        sandbox.add_milestone(other, title=f"other {i}")
        sandbox.add_milestone(mine, title=f"mine {i}")
    calls = []
    evaluate = _query.evaluate

    def counted(item: Any, record: Any) -> bool:
        calls.append(record["id"])
        return evaluate(item, record)

    monkeypatch.setattr(autotask_reads, "_evaluate", counted)
    titles = _titles(http, [{"op": "eq", "field": "contractID", "value": mine}])
    # The table vouches for its own rows' contract, so the contract item itself is evaluated on none of them.
    assert titles == [f"mine {i}" for i in range(30)] and calls == []
    # Every other item still is, on that contract's rows only (whatever its place).
    beginning = {"op": "beginsWith", "field": "title", "value": "mine 1"}
    titles = _titles(http, [beginning, {"op": "eq", "field": "contractID", "value": mine}])
    assert titles == ["mine 1", *(f"mine {i}" for i in range(10, 20))] and len(calls) == 30
    assert {sandbox.milestones[i]["contractID"] for i in calls} == {mine}
    calls.clear()
    # Without a top-level contract item every row is still evaluated, as before.
    assert len(_titles(http, [{"op": "or", "items": [{"op": "eq", "field": "contractID", "value": mine}]}])) == 30
    assert len(calls) == 60


@pytest.mark.parametrize(
    "filters",
    [
        [{"op": "eq", "field": "contractID", "value": "MINE"}],  # a number as text
        [{"op": "eq", "field": "CONTRACTID", "value": "MINE"}, {"op": "beginsWith", "field": "title", "value": "m"}],
        [{"op": "eq", "field": "contractID", "value": 0}],
        [{"op": "eq", "field": "contractID", "value": "not a number"}],
        [{"op": "eq", "field": "contractID", "value": True}],
    ],
)
def test_a_query_by_contract_answers_as_the_full_scan_does(
    autotask: tuple[AutotaskSandbox, httpx.Client], filters: list[dict[str, Any]]
) -> None:
    sandbox, http = autotask
    mine, other = sandbox.add_contract(), sandbox.add_contract()
    for i in range(5):
        sandbox.add_milestone(mine, title=f"mine {i}")
        sandbox.add_milestone(other, title=f"other {i}")
    odd = sandbox.add_milestone(other, title="mine as text")
    sandbox.milestones[odd]["contractID"] = str(mine)  # a row whose contract is stored as text still matches
    filters = [{**f, "value": str(mine)} if f.get("value") == "MINE" else f for f in filters]
    full_scan = [
        r["title"] for _, r in sorted(sandbox.milestones.items()) if all(_query.evaluate(f, r) for f in filters)
    ]
    assert _titles(http, filters) == full_scan


def test_rows_the_table_cannot_vouch_for_are_checked_against_the_contract_item(
    autotask: tuple[AutotaskSandbox, httpx.Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row put in the table as a plain dict is not the table's own: the contract item is evaluated on it."""
    sandbox, http = autotask
    mine, other = sandbox.add_contract(), sandbox.add_contract()
    own = sandbox.add_milestone(mine, title="own")
    for contract, title in ((mine, "plain mine"), (other, "plain other")):
        ident = sandbox.add_milestone(contract, title=title)
        sandbox.milestones[ident] = dict(sandbox.milestones[ident])
    calls = []
    evaluate = _query.evaluate

    def counted(item: Any, record: Any) -> bool:
        calls.append(record["title"])
        return evaluate(item, record)

    monkeypatch.setattr(autotask_reads, "_evaluate", counted)
    assert _titles(http, [{"op": "eq", "field": "contractID", "value": mine}]) == ["own", "plain mine"]
    assert sorted(calls) == ["plain mine", "plain other"]
    assert sandbox.milestones[own]["title"] == "own"
