"""Raw responses across the SDK: every native resource of every client (blocking and asyncio) has a raw
twin for each public method, and the recorder keeps nothing outside raw calls."""

from __future__ import annotations

import inspect
from typing import Any

import httpx
import pytest

from billing_milestones import (
    AsyncAutotaskClient,
    AsyncCrmComClient,
    AsyncKantataClient,
    AsyncMilestoneView,
    AutotaskClient,
    CrmComClient,
    KantataClient,
    MilestoneView,
    RawResponse,
)
from billing_milestones._http import REDACTED, APIResponse, register_secret
from billing_milestones._http import _raw as raw_module
from billing_milestones.sandbox.autotask import AutotaskSandbox
from billing_milestones.sandbox.crmcom import CrmComSandbox
from billing_milestones.sandbox.kantata import KantataSandbox


def clients() -> list[Any]:
    at, km, cc = AutotaskSandbox(), KantataSandbox(), CrmComSandbox()
    creds = (at.USERNAME, at.SECRET, at.INTEGRATION_CODE)
    return [
        AutotaskClient(*creds, http_client=at.http_client()),
        AsyncAutotaskClient(*creds, http_client=at.async_http_client()),
        KantataClient("tok", http_client=km.http_client()),
        AsyncKantataClient("tok", http_client=km.async_http_client()),
        CrmComClient("key", http_client=cc.http_client()),
        AsyncCrmComClient("key", http_client=cc.async_http_client()),
    ]


def native_resources(client: Any) -> list[Any]:
    """The client's resources other than the common view (anything bound to the client's runner)."""
    found = [
        value
        for value in vars(client).values()
        if hasattr(value, "_runner") and not isinstance(value, MilestoneView | AsyncMilestoneView)
    ]
    assert found, client
    return found


def public_methods(resource: Any) -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(type(resource))
        if not name.startswith("_") and name != "with_raw_response" and inspect.isfunction(member)
    }


@pytest.mark.parametrize("client", clients(), ids=lambda c: type(c).__name__)
def test_every_public_method_of_every_native_resource_has_a_raw_twin(client: Any) -> None:
    is_async = type(client).__name__.startswith("Async")
    for resource in native_resources(client):
        twins = resource.with_raw_response
        assert twins is resource.with_raw_response
        assert public_methods(resource) == set(vars(twins)), type(resource).__name__
        for name in public_methods(resource):
            twin = getattr(twins, name)
            assert inspect.iscoroutinefunction(twin) is is_async, f"{type(resource).__name__}.{name}"
            assert inspect.signature(twin) == inspect.signature(getattr(resource, name))


def _response(path: str = "/x", **headers: str) -> APIResponse:
    request = httpx.Request("GET", f"https://api.example.test{path}")
    return APIResponse(httpx.Response(200, headers=headers, request=request), 0, "kantata", headers.get("x-request-id"))


def test_nothing_is_recorded_outside_a_raw_call() -> None:
    raw_module.record(_response())
    assert raw_module._RECORDER.get() is None
    calls: list[int] = []

    def call() -> int:
        raw_module.record(_response("/one", **{"x-request-id": "r-1"}))
        calls.append(1)
        return 7

    raw = raw_module.to_raw_response_wrapper(call)()
    assert raw.parse() == 7 and raw.request_id == "r-1" and len(raw.responses) == 1
    assert raw_module._RECORDER.get() is None


def test_the_repr_names_the_request_and_never_a_registered_secret() -> None:
    register_secret("s3cret-in-a-path-xyz")
    raw = RawResponse((_response("/items/s3cret-in-a-path-xyz", **{"x-request-id": "r-9"}),), None)
    assert repr(raw) == f"<RawResponse [200] GET /items/{REDACTED} request_id='r-9'>"


def _signatures_are_kept_for_the_type_checker(at: AutotaskClient, akm: AsyncKantataClient) -> None:
    """Never run: mypy --strict checks it. Each ignore is needed only while the raw twin keeps the plain
    method's parameters (a lost ParamSpec would make it an unused ignore, which strict mode reports)."""
    at.contract_milestones.with_raw_response.get("not an id")  # type: ignore[arg-type]
    at.contract_milestones.with_raw_response.query(max_records="many")  # type: ignore[arg-type]
    akm.billing_milestones.with_raw_response.create(title="no workspace")  # type: ignore[call-arg]
    got: RawResponse[int] = at.contract_milestones.with_raw_response.count()
    assert got.parse() + 1
