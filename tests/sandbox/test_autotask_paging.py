"""Issue 18 points 7-9: the Autotask emulator pages every list as the vendor does, and serves the child
route's metadata.

``nextPageUrl`` is ``.../query/next?paging={pageSize, previousIds, nextIds}&search=<the query as JSON>``, the
child list ``GET /Contracts/{id}/Milestones`` pages 500 at a time like every list, ``prevPageUrl`` answers, and
``/Contracts/{id}/Milestones/entityInformation[/fields|/userDefinedFields]`` are not caught by the ``{id}`` route.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from billing_milestones.autotask import AutotaskClient
from billing_milestones.sandbox.autotask import AutotaskSandbox

BASE = "https://webservices.autotask.net/ATServicesRest/V1.0"
BODY: dict[str, Any] = {"filter": [{"op": "exist", "field": "id"}]}


@pytest.fixture
def sandbox() -> AutotaskSandbox:
    return AutotaskSandbox()


@pytest.fixture
def http(sandbox: AutotaskSandbox) -> Iterator[httpx.Client]:
    headers = {"ApiIntegrationCode": sandbox.INTEGRATION_CODE, "UserName": sandbox.USERNAME, "Secret": sandbox.SECRET}
    with sandbox.http_client(base_url=BASE, headers=headers) as client:
        yield client


def contract_with(sandbox: AutotaskSandbox, n: int) -> tuple[int, list[int]]:
    cid = sandbox.add_contract()
    return cid, [sandbox.add_milestone(cid, title=f"M{i}") for i in range(n)]


def parts(link: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    url = httpx.URL(link)
    return url.path, json.loads(url.params["paging"]), json.loads(url.params["search"])


def ids(page: dict[str, Any]) -> list[int]:
    return [i["id"] for i in page["items"]]


def test_next_page_url_has_the_documented_shape(sandbox: AutotaskSandbox, http: httpx.Client) -> None:
    _, made = contract_with(sandbox, 1200)
    first = http.post("/ContractMilestones/query", json=BODY).json()
    path, paging, search = parts(first["pageDetails"]["nextPageUrl"])
    assert path == "/ATServicesRest/V1.0/ContractMilestones/query/next"
    assert paging == {"pageSize": 500, "previousIds": [-1], "nextIds": [made[500]]}
    assert search == {**BODY}
    assert first["pageDetails"]["prevPageUrl"] is None
    second = http.post(first["pageDetails"]["nextPageUrl"], json=BODY).json()
    assert parts(second["pageDetails"]["nextPageUrl"])[1] == {
        "pageSize": 500,
        "previousIds": [-1, made[500]],
        "nextIds": [made[1000]],
    }
    third = http.post(second["pageDetails"]["nextPageUrl"], json=BODY).json()
    assert third["pageDetails"]["nextPageUrl"] is None
    assert ids(first) + ids(second) + ids(third) == made


def test_prev_page_url_answers_with_the_page_before(sandbox: AutotaskSandbox, http: httpx.Client) -> None:
    _, made = contract_with(sandbox, 1200)
    first = http.post("/ContractMilestones/query", json=BODY).json()
    second = http.post(first["pageDetails"]["nextPageUrl"], json=BODY).json()
    third = http.post(second["pageDetails"]["nextPageUrl"], json=BODY).json()
    back_to_second = http.post(third["pageDetails"]["prevPageUrl"], json=BODY)
    assert back_to_second.status_code == 200 and ids(back_to_second.json()) == ids(second)
    back_to_first = http.post(second["pageDetails"]["prevPageUrl"]).json()  # no body: the link's search
    assert ids(back_to_first) == made[:500] and back_to_first["pageDetails"]["prevPageUrl"] is None


def test_a_link_carries_the_query_so_a_bodyless_replay_keeps_the_filter(
    sandbox: AutotaskSandbox, http: httpx.Client
) -> None:
    cid, made = contract_with(sandbox, 7)
    contract_with(sandbox, 3)
    body = {"filter": [{"op": "eq", "field": "contractID", "value": cid}], "MaxRecords": 3}
    first = http.post("/ContractMilestones/query", json=body).json()
    assert parts(first["pageDetails"]["nextPageUrl"])[2] == body
    rest = http.post(first["pageDetails"]["nextPageUrl"]).json()
    assert ids(rest) == made[3:6]


def test_a_broken_paging_parameter_is_the_documented_500(http: httpx.Client) -> None:
    for paging in ('{"pageSize":500,"lastId":3}', "not json", '{"pageSize":500,"previousIds":[],"nextIds":[]}'):
        r = http.post("/ContractMilestones/query/next", params={"paging": paging}, json=BODY)
        assert r.status_code == 500 and "paging parameter" in r.json()["errors"][0], paging
    assert http.get("/ContractMilestones/query/next", params={"paging": "{}"}).status_code == 405


def test_the_child_list_pages_like_every_list(sandbox: AutotaskSandbox, http: httpx.Client) -> None:
    cid, made = contract_with(sandbox, 1200)
    contract_with(sandbox, 2)
    first = http.get(f"/Contracts/{cid}/Milestones").json()
    assert len(first["items"]) == 500 and first["pageDetails"]["count"] == 500
    path, paging, search = parts(first["pageDetails"]["nextPageUrl"])
    assert path == f"/ATServicesRest/V1.0/Contracts/{cid}/Milestones"
    assert paging == {"pageSize": 500, "previousIds": [-1], "nextIds": [made[500]]}
    assert search == {"filter": [{"op": "eq", "field": "contractID", "value": cid}]}
    second = http.get(first["pageDetails"]["nextPageUrl"]).json()  # the list was a GET, so is its next page
    third = http.get(second["pageDetails"]["nextPageUrl"]).json()
    assert third["pageDetails"]["nextPageUrl"] is None and len(third["items"]) == 200
    assert ids(first) + ids(second) + ids(third) == made
    assert ids(http.get(third["pageDetails"]["prevPageUrl"]).json()) == ids(second)


def test_the_child_routes_serve_entity_information(sandbox: AutotaskSandbox, http: httpx.Client) -> None:
    cid, made = contract_with(sandbox, 1)
    for tail in ("", "/fields", "/userDefinedFields"):
        child = http.get(f"/Contracts/{cid}/Milestones/entityInformation{tail}")
        assert child.status_code == 200, tail
        assert child.json() == http.get(f"/ContractMilestones/entityInformation{tail}").json()
    info = http.get(f"/Contracts/{cid}/Milestones/entityInformation").json()
    assert info["info"]["name"] == "ContractMilestone" and info["info"]["canDelete"] is False
    assert "item" not in info
    assert http.get(f"/Contracts/{cid}/Milestones/{made[0]}").json()["item"]["id"] == made[0]


def test_the_sdk_follows_the_vendor_shaped_links(sandbox: AutotaskSandbox) -> None:
    cid, made = contract_with(sandbox, 1100)
    with AutotaskClient(
        sandbox.USERNAME, sandbox.SECRET, sandbox.INTEGRATION_CODE, http_client=sandbox.http_client(), currency="USD"
    ) as client:
        # stream() keeps the served order page by page (list() sorts by due date, title, id).
        assert [m.key.id for m in client.milestones.stream(str(cid)) if m.key] == [str(i) for i in made]
    assert sandbox.count_requests("POST", r"/ContractMilestones/query/next$") == 2
