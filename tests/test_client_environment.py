"""Clients read credentials and base URL from the environment variables the CLI documents (issue 15, point 1)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from billing_milestones import (
    AsyncAutotaskClient,
    AsyncCrmComClient,
    AsyncKantataClient,
    AutotaskClient,
    CrmComClient,
    KantataClient,
    errors,
)

VARIABLES = (
    "KANTATA_TOKEN",
    "KANTATA_BASE_URL",
    "AUTOTASK_USERNAME",
    "AUTOTASK_SECRET",
    "AUTOTASK_INTEGRATION_CODE",
    "AUTOTASK_BASE_URL",
    "CRMCOM_API_KEY",
    "CRMCOM_BEARER_TOKEN",
    "CRMCOM_BASE_URL",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    yield


def _recording() -> tuple[list[httpx.Request], httpx.Client]:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"item": {"id": 1, "contractID": 1, "title": "t"}})

    return sent, httpx.Client(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize("make", [KantataClient, AsyncKantataClient])
def test_kantata_without_a_token_names_the_variable(make: Callable[..., Any]) -> None:
    with pytest.raises(errors.ConfigError, match="KANTATA_TOKEN") as info:
        make()
    assert info.value.key == "KANTATA_TOKEN"


def test_kantata_reads_token_and_base_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KANTATA_TOKEN", "env-token-123")
    monkeypatch.setenv("KANTATA_BASE_URL", "https://kantata.example.net/api/v1")
    client = KantataClient()
    assert client.base_url == httpx.URL("https://kantata.example.net/api/v1")
    assert client._core.credentials() == {"Authorization": "Bearer env-token-123"}
    given = KantataClient("given-token-9", base_url="https://other.example.net/api/v1")
    assert given._core.credentials() == {"Authorization": "Bearer given-token-9"}
    assert given.base_url.host == "other.example.net"


@pytest.mark.parametrize("make", [AutotaskClient, AsyncAutotaskClient])
def test_autotask_names_every_missing_variable(make: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOTASK_USERNAME", "api@example.com")
    with pytest.raises(errors.ConfigError) as info:
        make()
    assert "AUTOTASK_SECRET" in str(info.value) and "AUTOTASK_INTEGRATION_CODE" in str(info.value)
    assert "AUTOTASK_USERNAME" not in str(info.value)
    assert info.value.key == "AUTOTASK_SECRET"


def test_autotask_reads_credentials_and_base_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOTASK_USERNAME", "api@example.com")
    monkeypatch.setenv("AUTOTASK_SECRET", "env-secret-1")
    monkeypatch.setenv("AUTOTASK_INTEGRATION_CODE", "ENVCODE1")
    monkeypatch.setenv("AUTOTASK_BASE_URL", "https://webservices5.autotask.net")
    sent, http = _recording()
    with AutotaskClient(http_client=http) as client:
        client.contract_milestones.get(1)
    assert [r.url.host for r in sent] == ["webservices5.autotask.net"]  # no discovery: the base URL is given
    headers = sent[0].headers
    assert (headers["UserName"], headers["Secret"], headers["ApiIntegrationCode"]) == (
        "api@example.com",
        "env-secret-1",
        "ENVCODE1",
    )


def test_an_argument_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOTASK_USERNAME", "env@example.com")
    monkeypatch.setenv("AUTOTASK_SECRET", "env-secret-1")
    monkeypatch.setenv("AUTOTASK_INTEGRATION_CODE", "ENVCODE1")
    monkeypatch.setenv("AUTOTASK_BASE_URL", "https://webservices5.autotask.net")
    sent, http = _recording()
    base = "https://webservices9.autotask.net"
    with AutotaskClient("arg@example.com", "arg-secret-2", http_client=http, base_url=base) as client:
        client.contract_milestones.get(1)
    headers = sent[0].headers
    assert (headers["UserName"], headers["Secret"], headers["ApiIntegrationCode"]) == (
        "arg@example.com",
        "arg-secret-2",
        "ENVCODE1",
    )
    assert sent[0].url.host == "webservices9.autotask.net"


def test_a_blank_variable_counts_as_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KANTATA_TOKEN", "   ")
    with pytest.raises(errors.ConfigError, match="KANTATA_TOKEN"):
        KantataClient()


@pytest.mark.parametrize("make", [CrmComClient, AsyncCrmComClient])
def test_crmcom_reads_its_key_token_and_base_url(make: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRMCOM_API_KEY", "sk-env-key-1")
    monkeypatch.setenv("CRMCOM_BASE_URL", "https://crm.example.net")
    client = make()
    assert client._core.credentials() == {"api_key": "sk-env-key-1"}
    assert client.base_url == httpx.URL("https://crm.example.net/self-service/v2")
    monkeypatch.delenv("CRMCOM_API_KEY")
    monkeypatch.setenv("CRMCOM_BEARER_TOKEN", "contact-token-1")
    assert make()._core.credentials() == {"Authorization": "Bearer contact-token-1"}
    assert make("sk-given-2")._core.credentials() == {"api_key": "sk-given-2"}


def test_crmcom_without_any_credential_starts_unauthenticated() -> None:
    """A contact logs in later (authenticate_contact), so no credential is not an error here."""
    assert CrmComClient()._core.credentials() == {}


@pytest.mark.parametrize("make", [AutotaskClient, AsyncAutotaskClient])
def test_autotask_credentials_come_positionally_or_by_name_never_both(make: Callable[..., Any]) -> None:
    by_name = make(username="u@example.com", secret="s3cret!!", integration_code="CODE1234")
    positional = make("u@example.com", "s3cret!!", "CODE1234")
    assert by_name._core.credentials() == positional._core.credentials()
    with pytest.raises(TypeError, match="multiple values for argument 'secret'"):
        make("u@example.com", "s3cret!!", secret="other")
    with pytest.raises(TypeError, match="at most 3 positional"):
        make("u@example.com", "s3cret!!", "CODE1234", "extra")
    with pytest.raises(TypeError, match=r"unexpected keyword argument.*usrname"):
        make("u@example.com", "s3cret!!", "CODE1234", usrname="x")
