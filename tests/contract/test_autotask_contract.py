"""The Autotask client and emulator against Autotask's own swagger (``../shared/specs/autotask``).

Every operation the SDK uses is driven through the sync and the async client on the in-process sandbox, zone
discovery included, with a recording transport underneath: each request the client put on the wire must fit
the swagger (method, path, the credential headers, query parameters, a QueryModel or ContractMilestoneModel
body with no undeclared key), and each answer the emulator gave must fit its documented response. The
operations of the excerpt the SDK does not use (the GET ``?search=`` forms, entityInformation, the child list
and get, PUT) are probed with raw requests, so the emulator's answers to them are checked as well. Autotask
documents 200, 401 and 403 only: its 500s (business rules, unknown users) are the emulator's own to test.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from decimal import Decimal

import httpx
import pytest

from billing_milestones.autotask import AsyncAutotaskClient, AutotaskClient, F
from billing_milestones.errors import AuthenticationError, NotFoundError
from billing_milestones.sandbox.autotask import STATUS_READY, AutotaskSandbox

from ._openapi import ApiDescription, Exchange
from ._recording import Recorder, isolated_secrets

V = "/V1.0"
#: What the SDK itself sends: the session must reach each of these through a client, not a raw probe.
SDK_OPERATIONS = {
    ("GET", f"{V}/zoneInformation"),
    ("GET", f"{V}/ThresholdInformation"),
    ("GET", f"{V}/ContractMilestones/entityInformation/fields"),
    ("POST", f"{V}/ContractMilestones/query"),
    ("POST", f"{V}/ContractMilestones/query/next"),
    ("POST", f"{V}/ContractMilestones/query/count"),
    ("GET", f"{V}/ContractMilestones/{{id}}"),
    ("POST", f"{V}/Contracts/{{parentId}}/Milestones"),
    ("PATCH", f"{V}/Contracts/{{parentId}}/Milestones"),
    ("GET", f"{V}/Contracts/{{id}}"),
    ("GET", f"{V}/Companies/{{id}}"),
    ("GET", f"{V}/Currencies/{{id}}"),
    ("POST", f"{V}/Currencies/query"),
}


def _client(sandbox: AutotaskSandbox, http: httpx.Client) -> AutotaskClient:
    return AutotaskClient(sandbox.USERNAME, sandbox.SECRET, sandbox.INTEGRATION_CODE, http_client=http)


def _sync_session(sandbox: AutotaskSandbox, ids: dict[str, int]) -> list[Exchange]:
    recorder = Recorder(sandbox.transport())
    usd = ids["usd_contract"]
    with _client(sandbox, httpx.Client(transport=recorder)) as autotask:
        autotask.zone_information()
        autotask.threshold_information()
        milestones = autotask.contract_milestones
        milestones.fields()
        pages = list(milestones.query_pages(F.eq("contractID", usd), max_records=2))
        assert len(pages) == 2  # the second page came from POST .../query/next
        list(milestones.query(F.gt("amount", Decimal("100.50")) & F.in_("status", [1, 2]), include_fields=["id"]))
        assert milestones.count(F.eq("contractID", usd)) == 3
        made = milestones.create(usd, title="Kick-off", amount=Decimal("1250.00"), date_due=dt.date(2026, 5, 1))
        milestones.update(usd, made, title="Kick-off (moved)", status=STATUS_READY)
        milestones.get(made)
        with pytest.raises(NotFoundError):
            milestones.get(999_999_999)
        assert autotask.currency_for(usd) == "USD"
        assert autotask.currency_for(ids["eur_contract"]) == "EUR"
    base = f"https://{sandbox.zone_host or 'webservices.autotask.net'}/ATServicesRest/V1.0"
    with (
        AutotaskClient(
            sandbox.USERNAME,
            "a-wrong-secret",
            sandbox.INTEGRATION_CODE,
            base_url=base,
            http_client=httpx.Client(transport=recorder),
        ) as wrong,
        pytest.raises(AuthenticationError),
    ):
        wrong.contract_milestones.get(ids["design"])
    return recorder.exchanges


def _probes(sandbox: AutotaskSandbox, ids: dict[str, int]) -> list[Exchange]:
    """The excerpt's operations the SDK does not send, asked raw, so the emulator's answers are checked too."""
    recorder = Recorder(sandbox.transport())
    headers = {
        "ApiIntegrationCode": sandbox.INTEGRATION_CODE,
        "UserName": sandbox.USERNAME,
        "Secret": sandbox.SECRET,
    }
    usd, design = ids["usd_contract"], ids["design"]
    search = json.dumps({"filter": [{"op": "eq", "field": "contractID", "value": usd}]})
    full = {"id": design, "title": "Design", "amount": 7500, "dateDue": "2026-03-31T00:00:00", "status": 1}
    base = "https://webservices.autotask.net/ATServicesRest/V1.0"
    with httpx.Client(transport=recorder, base_url=base, headers=headers) as http:
        http.get("/ContractMilestones/query", params={"search": search})
        http.get("/ContractMilestones/query/count", params={"search": search})
        http.get("/ContractMilestones/entityInformation")
        http.get("/ContractMilestones/entityInformation/userDefinedFields")
        http.get(f"/Contracts/{usd}/Milestones")
        http.get(f"/Contracts/{usd}/Milestones/{design}")
        http.put(f"/Contracts/{usd}/Milestones", json={**full, "isInitialPayment": False})
        sandbox.add_currency("GBP")
        first = http.post("/Currencies/query", json={"filter": [{"op": "exist", "field": "id"}], "MaxRecords": 1})
        link = first.json()["pageDetails"]["nextPageUrl"]
        http.post(link, json={"filter": [{"op": "exist", "field": "id"}], "MaxRecords": 1})
    return recorder.exchanges


async def _async_session(sandbox: AutotaskSandbox, ids: dict[str, int]) -> list[Exchange]:
    recorder = Recorder(sandbox.transport())
    http = httpx.AsyncClient(transport=recorder)
    async with AsyncAutotaskClient(
        sandbox.USERNAME, sandbox.SECRET, sandbox.INTEGRATION_CODE, http_client=http
    ) as autotask:
        milestones = autotask.contract_milestones
        made = await milestones.create(
            ids["eur_contract"], title="Async", amount="5.00", date_due="2026-07-01T00:00:00Z"
        )
        await milestones.update(ids["eur_contract"], made, amount=Decimal("6.00"))
        [m async for m in milestones.query(F.eq("contractID", ids["eur_contract"]))]
        await milestones.count(F.exist("id"))
        await autotask.currency_for(ids["tm_contract"])
    return recorder.exchanges


@pytest.fixture(scope="module")
def exchanges() -> list[Exchange]:
    sandbox = AutotaskSandbox()
    ids = sandbox.seed_demo()
    with isolated_secrets():
        recorded = _sync_session(sandbox, ids) + asyncio.run(_async_session(sandbox, ids))
        return recorded + _probes(sandbox, ids)


def _reached(api: ApiDescription, exchanges: list[Exchange]) -> set[tuple[str, str]]:
    return {
        (op.method, op.template)
        for x in exchanges
        if (found := api.find(x.request.method, x.request.url))
        for op in [found[0]]
    }


def test_the_session_reaches_every_documented_operation(
    autotask_api: ApiDescription, exchanges: list[Exchange]
) -> None:
    """Without this a shrinking scenario would let the checks below pass on fewer and fewer operations; the
    clients themselves must reach every operation the SDK uses (the probes cover only the rest)."""
    assert all(autotask_api.find(x.request.method, x.request.url) for x in exchanges), "an unmatched request"
    assert _reached(autotask_api, exchanges) == {(op.method, op.template) for op in autotask_api.operations}
    assert {200, 401} <= {x.response.status_code for x in exchanges}


def test_the_clients_alone_reach_every_operation_the_sdk_uses(autotask_api: ApiDescription) -> None:
    sandbox = AutotaskSandbox()
    ids = sandbox.seed_demo()
    with isolated_secrets():
        sent = _sync_session(sandbox, ids) + asyncio.run(_async_session(sandbox, ids))
    assert _reached(autotask_api, sent) == SDK_OPERATIONS


def test_every_request_the_client_sends_fits_the_description(
    autotask_api: ApiDescription, exchanges: list[Exchange]
) -> None:
    assert [p for x in exchanges for p in autotask_api.check_request(x.request)] == []


def test_every_answer_the_emulator_gives_fits_the_documented_response(
    autotask_api: ApiDescription, exchanges: list[Exchange]
) -> None:
    documented = [x for x in exchanges if x.response.status_code in (200, 401, 403)]
    assert len(documented) == len(exchanges)  # the session provokes no business-rule 500
    assert [p for x in documented for p in autotask_api.check_response(x)] == []
