"""The Autotask emulator over raw HTTP: routes, quirks, rules, filter evaluation, paging and limits."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from billing_milestones.sandbox import FaultPlan, LoopbackServer, RateLimit
from billing_milestones.sandbox.autotask import STATUS_BILLED, STATUS_NOT_READY, STATUS_READY, AutotaskSandbox

BASE = "https://webservices.autotask.net/ATServicesRest/V1.0"


@pytest.fixture
def sandbox() -> AutotaskSandbox:
    return AutotaskSandbox()


@pytest.fixture
def http(sandbox: AutotaskSandbox) -> Iterator[httpx.Client]:
    headers = {
        "ApiIntegrationCode": sandbox.INTEGRATION_CODE,
        "UserName": sandbox.USERNAME,
        "Secret": sandbox.SECRET,
    }
    with sandbox.http_client(base_url=BASE, headers=headers) as client:
        yield client


def query(http: httpx.Client, *filters: dict[str, Any], **extra: Any) -> list[dict[str, Any]]:
    r = http.post("/ContractMilestones/query", json={"filter": list(filters), **extra})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


@pytest.fixture
def seeded(sandbox: AutotaskSandbox) -> dict[str, int]:
    cid = sandbox.add_contract(contract_id=100)
    other = sandbox.add_contract(contract_id=200)
    ids = {
        "a": sandbox.add_milestone(
            cid,
            title="Alpha design",
            amount="100.00",
            date_due=dt.date(2026, 1, 10),
            description="first [bm:k1]",
            billing_code_id=sandbox.MILESTONE_BILLING_CODE,
        ),
        "b": sandbox.add_milestone(
            cid, title="Beta build", amount="250.50", date_due=dt.date(2026, 2, 10), status=STATUS_READY
        ),
        "c": sandbox.add_milestone(
            cid,
            title="Gamma go-live",
            amount="999.99",
            date_due=dt.date(2026, 3, 10),
            status=STATUS_BILLED,
            is_initial_payment=True,
        ),
        "d": sandbox.add_milestone(other, title="Delta design", amount="5", date_due=dt.date(2026, 4, 10)),
    }
    return ids


def titles(items: list[dict[str, Any]]) -> list[str]:
    return [i["title"] for i in items]


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"op": "eq", "field": "contractID", "value": 100}, ["Alpha design", "Beta build", "Gamma go-live"]),
        ({"op": "noteq", "field": "status", "value": 1}, ["Beta build", "Gamma go-live"]),
        ({"op": "gt", "field": "amount", "value": 250.50}, ["Gamma go-live"]),
        ({"op": "gte", "field": "amount", "value": 250.50}, ["Beta build", "Gamma go-live"]),
        ({"op": "lt", "field": "dateDue", "value": "2026-02-10"}, ["Alpha design"]),
        ({"op": "lte", "field": "dateDue", "value": "2026-02-10T00:00:00Z"}, ["Alpha design", "Beta build"]),
        ({"op": "beginsWith", "field": "title", "value": "alpha"}, ["Alpha design"]),
        ({"op": "endsWith", "field": "title", "value": "DESIGN"}, ["Alpha design", "Delta design"]),
        ({"op": "contains", "field": "title", "value": "go-"}, ["Gamma go-live"]),
        ({"op": "exist", "field": "billingCodeID"}, ["Alpha design"]),
        ({"op": "notExist", "field": "description"}, ["Beta build", "Gamma go-live", "Delta design"]),
        ({"op": "in", "field": "status", "value": [2, 3]}, ["Beta build", "Gamma go-live"]),
        ({"op": "notIn", "field": "contractID", "value": [100]}, ["Delta design"]),
        ({"op": "eq", "field": "isInitialPayment", "value": True}, ["Gamma go-live"]),
    ],
)
def test_every_operator(http: httpx.Client, seeded: dict[str, int], flt: dict[str, Any], expected: list[str]) -> None:
    assert titles(query(http, flt)) == expected


def test_nested_groups_and_top_level_and(http: httpx.Client, seeded: dict[str, int]) -> None:
    nested = {
        "op": "or",
        "items": [
            {
                "op": "and",
                "items": [
                    {"op": "eq", "field": "contractID", "value": 100},
                    {"op": "contains", "field": "title", "value": "design"},
                ],
            },
            {
                "op": "and",
                "items": [
                    {"op": "gt", "field": "amount", "value": 500},
                    {
                        "op": "or",
                        "items": [{"op": "eq", "field": "status", "value": 3}, {"op": "notExist", "field": "id"}],
                    },
                ],
            },
        ],
    }
    assert titles(query(http, nested)) == ["Alpha design", "Gamma go-live"]
    assert titles(query(http, nested, {"op": "noteq", "field": "status", "value": 3})) == ["Alpha design"]


def test_include_fields(http: httpx.Client, seeded: dict[str, int]) -> None:
    items = query(http, {"op": "exist", "field": "id"}, IncludeFields=["title"])
    assert items[0] == {"id": seeded["a"], "title": "Alpha design"}


def test_bad_filters_are_500s(http: httpx.Client) -> None:
    bodies: tuple[dict[str, object], ...] = (
        {"filter": [{"op": "like", "field": "title", "value": "x"}]},
        {"filter": [{"op": "eq", "field": "nope", "value": 1}]},
        {"filter": [{"op": "in", "field": "status", "value": 1}]},
        {"filter": []},
        {"filter": [{"op": "exist", "field": "id"}], "MaxRecords": 501},
    )
    for body in bodies:
        r = http.post("/ContractMilestones/query", json=body)
        assert r.status_code == 500 and r.json()["errors"], body


def test_paging_is_post_only_and_ordered(sandbox: AutotaskSandbox, http: httpx.Client) -> None:
    cid = sandbox.add_contract()
    for i in range(1200):
        sandbox.add_milestone(cid, title=f"M{i}")
    body = {"filter": [{"op": "exist", "field": "id"}]}
    first = http.post("/ContractMilestones/query", json=body).json()
    assert len(first["items"]) == 500 and first["pageDetails"]["count"] == 500
    next_url = first["pageDetails"]["nextPageUrl"]
    assert next_url.startswith(BASE + "/ContractMilestones/query/next?paging=")
    refused = http.get(next_url)
    assert refused.status_code == 405
    assert refused.json() == {"Message": "The requested resource does not support http method 'GET'."}
    second = http.post(next_url, json=body).json()
    third = http.post(second["pageDetails"]["nextPageUrl"], json=body).json()
    assert third["pageDetails"]["nextPageUrl"] is None and len(third["items"]) == 200
    ids = [i["id"] for p in (first, second, third) for i in p["items"]]
    assert ids == sorted(ids) and len(set(ids)) == 1200
    small = http.post("/ContractMilestones/query", json={**body, "MaxRecords": 7}).json()
    assert len(small["items"]) == 7 and small["pageDetails"]["nextPageUrl"]
    count = http.post("/ContractMilestones/query/count", json=body).json()
    assert count == {"queryCount": 1200}
    search = json.dumps({"filter": [{"op": "eq", "field": "title", "value": "M5"}]})
    assert http.get("/ContractMilestones/query", params={"search": search}).json()["items"][0]["title"] == "M5"
    assert http.get("/ContractMilestones/query/count", params={"search": search}).json() == {"queryCount": 1}


def test_routes_and_case_insensitive_paths(
    sandbox: AutotaskSandbox, http: httpx.Client, seeded: dict[str, int]
) -> None:
    lower = "https://webservices.autotask.net/atservicesrest/v1.0/contractmilestones/"
    assert http.get(f"{lower}{seeded['a']}").json()["item"]["title"] == "Alpha design"
    assert http.get("/ContractMilestones/424242").json() == {"item": None}
    assert http.get(f"/Contracts/100/Milestones/{seeded['d']}").json() == {"item": None}
    assert len(http.get("/Contracts/100/Milestones").json()["items"]) == 3
    assert http.post("/ContractMilestones", json={"title": "x"}).status_code == 404
    assert http.patch("/ContractMilestones", json={"id": 1}).status_code == 404
    assert http.delete(f"/ContractMilestones/{seeded['a']}").status_code == 405
    assert http.delete("/Contracts/100/Milestones").status_code == 405
    info = http.get("/ContractMilestones/entityInformation").json()["info"]
    assert info["canDelete"] is False and info["canCreate"] is True
    fields = http.get("/ContractMilestones/entityInformation/fields").json()["fields"]
    status = next(f for f in fields if f["name"] == "status")
    assert [(p["value"], p["label"]) for p in status["picklistValues"]] == [
        ("1", "Not Ready to Bill"),
        ("2", "Ready to Bill"),
        ("3", "Billed"),
    ]
    assert next(f for f in fields if f["name"] == "title")["length"] == 50
    threshold = http.get("/ThresholdInformation").json()
    assert threshold["externalRequestThreshold"] == 10_000 and threshold["currentTimeframeRequestCount"] >= 1


def test_auth_quirks(sandbox: AutotaskSandbox) -> None:
    def call(**headers: str) -> httpx.Response:
        base = {"ApiIntegrationCode": sandbox.INTEGRATION_CODE, "UserName": sandbox.USERNAME, "Secret": sandbox.SECRET}
        with sandbox.http_client(base_url=BASE) as c:
            return c.get("/ContractMilestones/1", headers={**base, **headers})

    assert call().status_code == 200
    unknown = call(UserName="ghost@x")
    assert unknown.status_code == 500 and "ghost@x" in unknown.json()["errors"][0]
    assert call(Secret="wrong").status_code == 401
    assert call(ApiIntegrationCode="WRONG").status_code == 500
    assert call(ImpersonationResourceId=str(sandbox.RESOURCE_ID)).status_code == 200
    assert call(ImpersonationResourceId="5").status_code == 500
    with sandbox.http_client(base_url=BASE) as c:
        zone = c.get("/zoneInformation", params={"user": sandbox.USERNAME})
        assert zone.json()["url"] == "https://webservices.autotask.net/ATServicesRest/"
        assert c.get("/zoneInformation", params={"user": "ghost"}).status_code == 500


def test_create_and_update_rules(sandbox: AutotaskSandbox, http: httpx.Client) -> None:
    cid = sandbox.add_contract(contract_id=300, currency="EUR", exchange_rate="1.10")
    tm = sandbox.add_contract(contract_id=301, contract_type=1)
    good = {
        "title": "A",
        "amount": Decimal("100.00"),
        "dateDue": "2026-05-01T00:00:00Z",
        "status": STATUS_NOT_READY,
        "isInitialPayment": False,
    }

    def post(contract: int, **over: Any) -> httpx.Response:
        content = json.dumps({**good, **over}, default=str).replace('"100.00"', "100.00")
        return http.post(
            f"/Contracts/{contract}/Milestones", content=content, headers={"Content-Type": "application/json"}
        )

    created = post(cid)
    assert created.status_code == 200
    mid = created.json()["itemId"]
    stored = sandbox.milestones[mid]
    assert stored["internalCurrencyAmount"] == Decimal("110.00") and stored["dateDue"] == "2026-05-01T00:00:00"

    def refused(response: httpx.Response, needle: str) -> None:
        assert response.status_code == 500, response.text
        assert any(needle in m for m in response.json()["errors"]), response.json()

    refused(post(tm), "Fixed Price")
    refused(post(999), "existing entity")
    refused(post(cid, title="x" * 51), "title exceeds")
    refused(post(cid, description="x" * 251), "description exceeds")
    refused(post(cid, status=STATUS_BILLED), "isInitialPayment is false")
    refused(post(cid, isInitialPayment="yes"), "true or false")
    refused(post(cid, billingCodeID=29682802), "Milestone-type")
    refused(post(cid, status=9), "picklist")
    refused(post(cid, contractID=5), "does not match")
    assert post(cid, status=STATUS_BILLED, isInitialPayment=True).status_code == 200
    refused(post(cid, status=STATUS_BILLED, isInitialPayment=True), "only one Billed")

    patch = http.patch(f"/Contracts/{cid}/Milestones", json={"id": mid, "title": "B"})
    assert patch.json() == {"itemId": mid} and sandbox.milestones[mid]["title"] == "B"
    refused(http.patch(f"/Contracts/{cid}/Milestones", json={"id": mid, "createDate": "2020-01-01"}), "read-only")
    refused(http.patch(f"/Contracts/{cid}/Milestones", json={"id": 1, "title": "B"}), "does not exist")
    refused(http.put(f"/Contracts/{cid}/Milestones", json={"id": mid, "title": "C"}), "is required")
    sandbox.bill(mid)
    refused(http.patch(f"/Contracts/{cid}/Milestones", json={"id": mid, "title": "C"}), "Billed milestone")


def test_thread_limit_per_endpoint_with_configurable_status() -> None:
    sandbox = AutotaskSandbox(thread_limit_status=500, faults=FaultPlan().latency(0.2))
    headers = {"ApiIntegrationCode": sandbox.INTEGRATION_CODE, "UserName": sandbox.USERNAME, "Secret": sandbox.SECRET}
    paths = ["/ContractMilestones/1"] * 5 + ["/ThresholdInformation"]
    clients = [sandbox.http_client(base_url=BASE, headers=headers) for _ in paths]  # built before the race
    gate = threading.Barrier(len(paths))
    results: list[httpx.Response] = []

    def hit(client: httpx.Client, path: str) -> None:
        gate.wait()
        results.append(client.get(path))

    threads = [threading.Thread(target=hit, args=(c, p)) for c, p in zip(clients, paths, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in clients:
        c.close()
    refused = [r for r in results if r.status_code == 500]
    assert len(refused) == 2 and sandbox.thread_threshold_errors == 2
    assert "thread threshold of 3 threads" in refused[0].json()["errors"][0]
    # the other endpoint has its own three threads
    assert sandbox.max_in_flight["contractmilestones"] >= 4 and sandbox.max_in_flight["thresholdinformation"] == 1
    assert sorted(r.status_code for r in results) == [200, 200, 200, 200, 500, 500]


def test_hourly_threshold() -> None:
    sandbox = AutotaskSandbox(hourly_threshold=3)
    headers = {"ApiIntegrationCode": sandbox.INTEGRATION_CODE, "UserName": sandbox.USERNAME, "Secret": sandbox.SECRET}
    with sandbox.http_client(base_url=BASE, headers=headers) as c:
        assert [c.get("/ThresholdInformation").status_code for _ in range(4)] == [200, 200, 200, 429]
        assert "threshold" in c.get("/ContractMilestones/1").json()["errors"][0]
    custom = AutotaskSandbox(rate_limit=RateLimit(requests=1, per_seconds=60, send_retry_after=True))
    with custom.http_client(base_url=BASE, headers=headers) as c:
        c.get("/ThresholdInformation")
        assert "Retry-After" in c.get("/ThresholdInformation").headers


def test_seed_demo_and_asgi_app() -> None:
    sandbox = AutotaskSandbox()
    ids = sandbox.seed_demo()
    assert sandbox.contracts[ids["eur_contract"]]["currency"] == "EUR"
    assert sandbox.milestones[ids["deposit"]]["status"] == STATUS_BILLED
    headers = {"ApiIntegrationCode": sandbox.INTEGRATION_CODE, "UserName": sandbox.USERNAME, "Secret": sandbox.SECRET}
    with LoopbackServer(sandbox.asgi_app()) as server, httpx.Client(base_url=server.url, headers=headers) as c:
        zone = c.get("/ATServicesRest/V1.0/zoneInformation", params={"user": sandbox.USERNAME}).json()
        assert zone["url"] == f"{server.url}/ATServicesRest/"
        body = {"filter": [{"op": "eq", "field": "contractID", "value": ids["usd_contract"]}], "MaxRecords": 2}
        first = c.post("/ATServicesRest/V1.0/ContractMilestones/query", json=body).json()
        assert first["pageDetails"]["nextPageUrl"].startswith(server.url)
        second = c.post(first["pageDetails"]["nextPageUrl"], json=body).json()
        assert [i["title"] for i in first["items"] + second["items"]] == ["Deposit", "Design sign-off", "Launch"]


# -- the currency chain: Contracts -> Companies -> Currencies ----------------------------------------
def test_contract_company_and_currency_routes(sandbox: AutotaskSandbox, http: httpx.Client) -> None:
    eur = sandbox.add_contract(contract_id=300, name="ERP", currency="EUR", exchange_rate="1.08")
    plain = sandbox.add_contract(contract_id=301)
    contract = http.get("/Contracts/300").json()["item"]
    assert {k: contract[k] for k in ("id", "contractName", "contractType")} == {
        "id": eur,
        "contractName": "ERP",
        "contractType": 3,
    }
    assert "currency" not in contract and "exchangeRate" not in contract  # sandbox bookkeeping is not served
    assert http.get("/contracts/424242").json() == {"item": None}
    company = http.get(f"/Companies/{contract['companyID']}").json()["item"]
    row = http.get(f"/Currencies/{company['currencyID']}").json()["item"]
    assert (row["name"], row["isInternalCurrency"], row["exchangeRate"]) == ("EUR", False, 1.08)
    assert http.get("/Currencies/999").json() == {"item": None}
    assert http.get("/Companies/999").json() == {"item": None}
    bare = http.get(f"/Companies/{http.get('/Contracts/301').json()['item']['companyID']}").json()["item"]
    assert bare["currencyID"] is None and plain == 301
    found = http.post(
        "/Currencies/query", json={"filter": [{"op": "eq", "field": "isInternalCurrency", "value": True}]}
    ).json()["items"]
    assert [c["name"] for c in found] == ["USD"]
    names = http.post("/Currencies/query", json={"filter": [{"op": "exist", "field": "id"}], "MaxRecords": 1}).json()
    link = httpx.URL(names["pageDetails"]["nextPageUrl"])
    assert len(names["items"]) == 1 and link.path.endswith("/Currencies/query/next")
    assert json.loads(link.params["paging"]) == {"pageSize": 1, "previousIds": [-1], "nextIds": [2]}
    rest = http.post(names["pageDetails"]["nextPageUrl"], json={"filter": [{"op": "exist", "field": "id"}]}).json()
    assert [c["name"] for c in rest["items"]] == ["EUR"]
    bad = http.post("/Currencies/query", json={"filter": [{"op": "eq", "field": "title", "value": "x"}]})
    assert bad.status_code == 500 and "Currency entity" in bad.json()["errors"][0]


def test_multi_currency_off() -> None:
    sandbox = AutotaskSandbox(multi_currency=False, internal_currency="EUR")
    cid = sandbox.add_contract(currency="EUR")
    assert sandbox.add_contract() != cid
    with pytest.raises(ValueError, match="multi-currency is off"):
        sandbox.add_contract(currency="USD")
    headers = {"ApiIntegrationCode": sandbox.INTEGRATION_CODE, "UserName": sandbox.USERNAME, "Secret": sandbox.SECRET}
    with sandbox.http_client(base_url=BASE, headers=headers) as http:
        company = http.get(f"/Companies/{sandbox.contracts[cid]['companyID']}").json()["item"]
        assert "currencyID" not in company
        assert http.get("/Currencies/1").status_code == 404
        assert http.post("/Currencies/query", json={"filter": [{"op": "exist", "field": "id"}]}).status_code == 404
    assert sandbox.contracts[cid]["currency"] == "EUR"


def test_add_contract_attaches_companies_by_currency() -> None:
    sandbox = AutotaskSandbox(internal_currency="GBP")
    a = sandbox.add_contract(currency="EUR")
    b = sandbox.add_contract(currency="eur")
    c = sandbox.add_contract(currency="GBP")
    d = sandbox.add_contract()
    companies = [sandbox.contracts[x]["companyID"] for x in (a, b, c, d)]
    assert companies[0] == companies[1] and len(set(companies)) == 3
    assert [sandbox.company_currency(co) for co in companies] == ["EUR", "EUR", "GBP", "GBP"]
    assert sandbox.companies[companies[3]]["currencyID"] is None  # the internal currency, by absence
    internal = [r for r in sandbox.currencies.values() if r["isInternalCurrency"]]
    assert [r["name"] for r in internal] == ["GBP"]
    assert sandbox.add_contract(company_id=4242, currency="JPY") and sandbox.company_currency(4242) == "JPY"
    assert sandbox.add_contract(company_id=4242)  # an existing company: its currency
    with pytest.raises(ValueError, match="bills in JPY"):
        sandbox.add_contract(company_id=4242, currency="EUR")
    odd = sandbox.add_company(currency_id=sandbox.add_currency("Dollars"))
    assert sandbox.company_currency(odd) == "Dollars"


#: ContractMilestoneModel's properties in the official swagger (specs README): no ``userDefinedFields``.
MODEL_KEYS = {
    "id",
    "amount",
    "billingCodeID",
    "contractID",
    "createDate",
    "creatorResourceID",
    "dateDue",
    "description",
    "internalCurrencyAmount",
    "isInitialPayment",
    "organizationalLevelAssociationID",
    "status",
    "title",
}


def test_milestones_carry_exactly_the_swaggers_model_fields(sandbox: AutotaskSandbox, http: httpx.Client) -> None:
    """Seeded or created, a record has ContractMilestoneModel's keys: the model declares no userDefinedFields
    (ContractModel and CompanyModel do), so an emulator serving them would hide a client that reads them."""
    cid = sandbox.add_contract()
    seeded = sandbox.add_milestone(cid)
    body = {"title": "A", "amount": 1, "dateDue": "2026-05-01T00:00:00Z", "status": 1, "isInitialPayment": False}
    created = http.post(f"/Contracts/{cid}/Milestones", json=body).json()["itemId"]
    for mid in (seeded, created):
        assert set(http.get(f"/ContractMilestones/{mid}").json()["item"]) == MODEL_KEYS
    assert (
        http.post(
            "/ContractMilestones/query", json={"filter": [{"op": "exist", "field": "userDefinedFields"}]}
        ).status_code
        == 500
    )
