"""Zone discovery: cached per client, no Secret to the discovery host, re-discovered once after a 401."""

from __future__ import annotations

import httpx
import pytest
import respx

from billing_milestones import errors
from billing_milestones.autotask import AsyncAutotaskClient, AutotaskClient
from billing_milestones.sandbox.autotask import AutotaskSandbox

from .conftest import FAST, make_async_client, make_client

ZONE_INFO = {"zoneName": "EU", "url": "https://webservices16.autotask.net/ATServicesRest/", "webUrl": "x", "ci": 9}


@respx.mock
def test_discovery_sends_no_credentials_and_is_cached() -> None:
    zone = respx.get("https://webservices.autotask.net/ATServicesRest/V1.0/zoneInformation").mock(
        return_value=httpx.Response(200, json=ZONE_INFO)
    )
    item = respx.get("https://webservices16.autotask.net/ATServicesRest/V1.0/ContractMilestones/1").mock(
        return_value=httpx.Response(200, json={"item": {"id": 1, "title": "t"}})
    )
    with AutotaskClient("api@x.test", "s3cret-value", "CODE", retry_policy=FAST) as client:
        client.contract_milestones.get(1)
        client.with_options(max_retries=0).contract_milestones.get(1)
        assert str(client.base_url) == "https://webservices16.autotask.net/ATServicesRest/V1.0"
    assert zone.call_count == 1 and item.call_count == 2
    request = zone.calls[0].request
    assert request.url.params["user"] == "api@x.test"
    for header in ("Secret", "ApiIntegrationCode", "UserName"):
        assert header not in request.headers
    assert item.calls[0].request.headers["Secret"] == "s3cret-value"


@respx.mock
def test_discovery_url_is_configurable_and_explicit_base_url_skips_it() -> None:
    zone = respx.get("https://webservices2.autotask.net/ATServicesRest/V1.0/zoneInformation").mock(
        return_value=httpx.Response(200, json=ZONE_INFO)
    )
    respx.get(url__regex=r"ContractMilestones/1$").mock(return_value=httpx.Response(200, json={"item": {"id": 1}}))
    with AutotaskClient("u@x", "secret-1", "CODE", discovery_url="https://webservices2.autotask.net/") as client:
        client.contract_milestones.get(1)
    assert zone.call_count == 1
    with AutotaskClient(
        "u@x", "secret-1", "CODE", base_url="https://webservices16.autotask.net/ATServicesRest/V1.0"
    ) as c:
        c.contract_milestones.get(1)
    assert zone.call_count == 1


@respx.mock
def test_non_https_zone_refused() -> None:
    respx.get("https://webservices.autotask.net/ATServicesRest/V1.0/zoneInformation").mock(
        return_value=httpx.Response(200, json={**ZONE_INFO, "url": "http://webservices16.autotask.net/ATServicesRest/"})
    )
    with AutotaskClient("u@x", "secret-1", "CODE") as client, pytest.raises(errors.ConfigError, match="non-https"):
        client.contract_milestones.get(1)


def test_rediscovery_after_a_zone_move(sandbox: AutotaskSandbox) -> None:
    ids = sandbox.seed_demo()
    with make_client(sandbox) as client:
        assert client.contract_milestones.get(ids["design"]).title == "Design sign-off"
        assert client.base_url.host == "webservices.autotask.net"
        sandbox.move_zone("webservices29.autotask.net")
        assert client.contract_milestones.get(ids["launch"]).title == "Launch"
        assert client.base_url.host == "webservices29.autotask.net"
        assert client._state.discoveries == 2
        # paging after the move works too, and uses the new zone
        assert len(list(client.milestones.list(str(ids["usd_contract"])))) == 3
    assert sandbox.count_requests("GET", r"(?i)^/zoneInformation$") == 2
    unauthorised = [e for e in sandbox.request_log if e.status == 401]
    assert len(unauthorised) == 1


def test_wrong_secret_is_401_after_one_rediscovery(sandbox: AutotaskSandbox) -> None:
    with (
        AutotaskClient(
            sandbox.USERNAME,
            "wrong-secret",
            sandbox.INTEGRATION_CODE,
            http_client=sandbox.http_client(),
            retry_policy=FAST,
        ) as client,
        pytest.raises(errors.AuthenticationError),
    ):
        client.contract_milestones.get(1)
    assert [e.path for e in sandbox.request_log] == [
        "/zoneInformation",
        "/ContractMilestones/1",
        "/zoneInformation",
        "/ContractMilestones/1",
    ]


def test_explicit_base_url_never_rediscovers(sandbox: AutotaskSandbox) -> None:
    base = "https://webservices.autotask.net/ATServicesRest/V1.0"
    with (
        AutotaskClient(
            sandbox.USERNAME, "wrong-secret", sandbox.INTEGRATION_CODE, base_url=base, http_client=sandbox.http_client()
        ) as client,
        pytest.raises(errors.AuthenticationError),
    ):
        client.contract_milestones.get(1)
    assert sandbox.count_requests(path_regex="zoneInformation") == 0


def test_unknown_user_and_bad_integration_code_are_500s(sandbox: AutotaskSandbox) -> None:
    http = sandbox.http_client()
    unknown = AutotaskClient("nobody@x", sandbox.SECRET, sandbox.INTEGRATION_CODE, http_client=http)
    with unknown, pytest.raises(errors.InternalServerError, match="nobody@x"):
        unknown.contract_milestones.get(1)
    bad_code = AutotaskClient(sandbox.USERNAME, sandbox.SECRET, "WRONG-CODE", http_client=http)
    with bad_code, pytest.raises(errors.InternalServerError, match="ApiIntegrationCode"):
        bad_code.contract_milestones.get(1)
    assert sandbox.count_requests(path_regex="ContractMilestones") == 1  # not retried


async def test_async_discovery_and_rediscovery(sandbox: AutotaskSandbox) -> None:
    ids = sandbox.seed_demo()
    async with make_async_client(sandbox) as client:
        zone = await client.zone_information()
        assert zone.url == "https://webservices.autotask.net/ATServicesRest/"
        sandbox.move_zone("webservices29.autotask.net")
        assert (await client.contract_milestones.get(ids["design"])).id == ids["design"]
        assert client.base_url.host == "webservices29.autotask.net"
        titles = [m.title async for m in client.milestones.list(str(ids["usd_contract"]))]
        assert titles == ["Deposit", "Design sign-off", "Launch"]
    assert sandbox.count_requests("GET", r"(?i)^/zoneInformation$") == 2


async def test_async_credentials_not_sent_to_foreign_host() -> None:
    with respx.mock:
        evil = respx.post(url__startswith="https://evil.example").mock(return_value=httpx.Response(200))
        respx.post("https://webservices5.autotask.net/ATServicesRest/V1.0/ContractMilestones/query").mock(
            return_value=httpx.Response(
                200,
                json={
                    "items": [{"id": 1}],
                    "pageDetails": {
                        "count": 1,
                        "requestCount": 500,
                        "prevPageUrl": None,
                        "nextPageUrl": "https://evil.example/next",
                    },
                },
            )
        )
        async with AsyncAutotaskClient(
            "u@x", "secret-1", "CODE", base_url="https://webservices5.autotask.net/ATServicesRest/V1.0"
        ) as client:
            with pytest.raises(errors.PaginationError, match=r"evil\.example"):
                async for _ in client.contract_milestones.query():
                    pass
        assert not evil.called
