"""Zone discovery: cached per client, no Secret to the discovery host, re-discovered once after a 401."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import respx

from billing_milestones import errors
from billing_milestones.autotask import AsyncAutotaskClient, AutotaskClient
from billing_milestones.model import Platform
from billing_milestones.sandbox.autotask import AutotaskSandbox
from billing_milestones.sync.config import load_settings
from billing_milestones.sync.connect import connect

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


# -- issue 18 point 2: a base given as the zone URL gets its version ----------------------------------
@pytest.mark.parametrize(
    "given",
    [
        "https://webservices5.autotask.net/ATServicesRest/",  # what zoneInformation's url says
        "https://webservices5.autotask.net/atservicesrest",
        "https://webservices5.autotask.net",
        "https://webservices5.autotask.net/ATServicesRest/V1.0/",
    ],
)
@respx.mock
def test_explicit_base_url_as_the_zone_url_gets_the_version(given: str) -> None:
    # the server ignores the casing of the path, so the caller's is kept
    item = respx.get(
        url__regex=r"(?i)^https://webservices5\.autotask\.net/atservicesrest/v1\.0/ContractMilestones/1$"
    ).mock(return_value=httpx.Response(200, json={"item": {"id": 1}}))
    with AutotaskClient("u@x", "secret-1", "CODE", base_url=given) as client:
        assert client.contract_milestones.get(1).id == 1
        assert str(client.base_url).lower() == "https://webservices5.autotask.net/atservicesrest/v1.0"
    assert item.call_count == 1


@respx.mock
def test_a_404_on_a_path_without_the_version_says_so() -> None:
    """A proxy path is the caller's own layout and is kept; when it lacks V1.0 the 404 names the cause."""
    respx.get("https://proxy.example/autotask/ContractMilestones/1").mock(
        return_value=httpx.Response(404, json={"Message": "No HTTP resource was found that matches the request URI"})
    )
    with (
        AutotaskClient("u@x", "secret-1", "CODE", base_url="https://proxy.example/autotask") as client,
        pytest.raises(errors.NotFoundError, match=r"lacks the API version segment /V1\.0/") as caught,
    ):
        client.contract_milestones.get(1)
    assert caught.value.status_code == 404 and "No HTTP resource" in " ".join(caught.value.messages)


@respx.mock
def test_a_404_under_the_version_is_a_plain_404() -> None:
    respx.post("https://webservices5.autotask.net/ATServicesRest/V1.0/ContractMilestones/query/count").mock(
        return_value=httpx.Response(404, json={"Message": "No HTTP resource"})
    )
    with (
        AutotaskClient("u@x", "s-1", "CODE", base_url="https://webservices5.autotask.net/ATServicesRest/") as c,
        pytest.raises(errors.NotFoundError) as caught,
    ):
        c.contract_milestones.count()
    assert "lacks the API version" not in str(caught.value)


# -- issue 12 point 1: credentials go only to the vendor's hosts, or to one the caller named -----------
EVIL_ZONE = {**ZONE_INFO, "url": "https://evil.example/ATServicesRest/"}


@respx.mock
def test_a_zone_outside_the_vendor_domain_is_refused_and_sent_nothing() -> None:
    respx.get("https://webservices.autotask.net/ATServicesRest/V1.0/zoneInformation").mock(
        return_value=httpx.Response(200, json=EVIL_ZONE)
    )
    evil = respx.route(host="evil.example").mock(return_value=httpx.Response(200, json={"item": {"id": 1}}))
    with AutotaskClient("u@x", "secret-1", "CODE") as client:
        with pytest.raises(errors.ConfigError, match=r"'evil\.example'.*outside the vendor's domain") as caught:
            client.contract_milestones.get(1)
        assert caught.value.key == "zoneInformation.url"
        with pytest.raises(errors.ConfigError):
            client.zone_information()  # nothing was cached from the refused answer
    assert not evil.called


@pytest.mark.parametrize("host", ["autotask.net.evil.example", "evilautotask.net", "127.0.0.1"])
@respx.mock
def test_look_alike_hosts_are_not_the_vendor(host: str) -> None:
    respx.get("https://webservices.autotask.net/ATServicesRest/V1.0/zoneInformation").mock(
        return_value=httpx.Response(200, json={**ZONE_INFO, "url": f"https://{host}/ATServicesRest/"})
    )
    foreign = respx.route(host=host).mock(return_value=httpx.Response(200, json={"item": {"id": 1}}))
    with AutotaskClient("u@x", "secret-1", "CODE") as client, pytest.raises(errors.ConfigError, match=host):
        client.contract_milestones.get(1)
    assert not foreign.called


def test_rediscovery_to_a_foreign_host_is_refused(sandbox: AutotaskSandbox) -> None:
    """A 401 makes the client ask again; a forged answer then must not get the Secret either."""
    ids = sandbox.seed_demo()
    with make_client(sandbox) as client:
        client.contract_milestones.get(ids["design"])
        sandbox.move_zone("evil.example")
        with pytest.raises(errors.ConfigError, match=r"evil\.example"):
            client.contract_milestones.get(ids["launch"])
    assert sandbox.count_requests("GET", r"(?i)^/zoneInformation$") == 2
    assert [e.status for e in sandbox.request_log if e.path.startswith("/ContractMilestones")] == [200, 401]


@respx.mock
def test_a_configured_discovery_host_is_trusted_for_its_zone() -> None:
    """A sandbox or proxy named as discovery_url hands out zones on itself: that host was chosen by the caller."""
    respx.get("https://proxy.example/ATServicesRest/V1.0/zoneInformation").mock(
        return_value=httpx.Response(200, json={**ZONE_INFO, "url": "https://proxy.example/ATServicesRest/"})
    )
    item = respx.get("https://proxy.example/ATServicesRest/V1.0/ContractMilestones/1").mock(
        return_value=httpx.Response(200, json={"item": {"id": 1}})
    )
    with AutotaskClient("u@x", "secret-1", "CODE", discovery_url="https://proxy.example") as client:
        client.contract_milestones.get(1)
    assert item.calls[0].request.headers["Secret"] == "secret-1"


async def test_async_zone_outside_the_vendor_domain_is_refused() -> None:
    with respx.mock:
        respx.get("https://webservices.autotask.net/ATServicesRest/V1.0/zoneInformation").mock(
            return_value=httpx.Response(200, json=EVIL_ZONE)
        )
        evil = respx.route(host="evil.example").mock(return_value=httpx.Response(200))
        async with AsyncAutotaskClient("u@x", "secret-1", "CODE") as client:
            with pytest.raises(errors.ConfigError, match=r"evil\.example"):
                await client.contract_milestones.get(1)
        assert not evil.called


def test_autotask_base_url_from_the_environment_gets_the_version(tmp_path: Path) -> None:
    config = tmp_path / "milestones.toml"
    config.write_text("")
    env = {
        "AUTOTASK_USERNAME": "u@x",
        "AUTOTASK_SECRET": "secret-1",
        "AUTOTASK_INTEGRATION_CODE": "CODE",
        "AUTOTASK_BASE_URL": "https://webservices5.autotask.net/ATServicesRest/",
    }
    with connect(Platform.AUTOTASK, load_settings(config, env=env)) as client:
        assert str(client.base_url) == "https://webservices5.autotask.net/ATServicesRest/V1.0"
