"""A status error carries its response and request in the open; refusals made before sending have their own
branch (RequestNotSentError) and are still caught by the classes they had before."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from billing_milestones import AutotaskClient, KantataClient, errors
from billing_milestones._http import Operation, RequestSpec
from billing_milestones.kantata import BillingMilestone

from .conftest import make_core

GET = RequestSpec("GET", "/things")
ZONE = "https://webservices2.autotask.net"


async def test_a_status_error_holds_the_response_and_the_request_sent(harness: Any, kit: Any) -> None:
    h = harness(kit.always(409, headers={"x-request-id": "r-1"}), retry=kit.make_core().retry)
    with pytest.raises(errors.ConflictError) as info:
        await h.request(GET)
    err = info.value
    assert isinstance(err.response, httpx.Response) and err.response.status_code == 409
    assert err.response.headers["x-request-id"] == "r-1"
    assert err.request is h.requests[-1]
    # Nothing private rides along in the traceback any more.
    assert err.__cause__ is None


async def test_a_connection_error_holds_the_request_that_failed(harness: Any, kit: Any) -> None:
    h = harness(kit.raising(httpx.ConnectError), retry=kit.make_core().retry.__class__(max_retries=0))
    with pytest.raises(errors.APIConnectionError) as info:
        await h.request(GET)
    assert isinstance(info.value.request, httpx.Request)
    assert info.value.request.url.path == "/v1/things"


def test_retry_reads_the_error_itself_not_its_cause() -> None:
    """A hook or wrapper that re-raises ``from None`` used to hide the response and silently stop retries."""
    core = make_core()
    response = httpx.Response(503, request=httpx.Request("GET", "https://api.example.com/v1/things"))
    err = core.status_error(GET, response)
    err.__cause__ = None
    err.__suppress_context__ = True
    assert core.should_retry(GET, err)
    hinted = core.status_error(GET, httpx.Response(503, headers={"Retry-After": "7"}, request=response.request))
    assert core.retry_hint(hinted) == 7.0


def test_an_error_hook_that_builds_its_own_error_still_gets_the_response() -> None:
    def hook(response: httpx.Response, body: Any, kwargs: dict[str, Any]) -> errors.APIStatusError:
        return errors.APIStatusError("custom", platform="p", method="GET", path="/x")

    core = make_core(error_hook=hook)
    response = httpx.Response(503, request=httpx.Request("GET", "https://api.example.com/v1/things"))
    err = core.status_error(GET, response)
    assert err.response is response and err.request is response.request
    assert core.should_retry(GET, err)


async def test_an_error_a_parser_raises_holds_the_response_it_read(harness: Any, kit: Any) -> None:
    def parse(response: Any) -> None:
        raise errors.NotFoundError("no such thing", platform="p", method="GET", path="/things")

    h = harness(kit.status_then_ok())
    with pytest.raises(errors.NotFoundError) as info:
        await h.execute(Operation(GET, parse))
    assert info.value.response is not None and info.value.response.status_code == 200
    assert info.value.request is h.requests[-1]


def _refusals() -> list[tuple[str, BaseException]]:
    """Each kind of refusal made before sending, produced through the public clients."""
    out: list[tuple[str, BaseException]] = []
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"item": {"id": 1, "contractID": 1, "title": "t"}})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    autotask = AutotaskClient("u@example.com", "s", "c", base_url=ZONE, http_client=http, hourly_budget=1)
    calls: list[tuple[str, Callable[[], object]]] = [
        ("delete", lambda: autotask.contract_milestones.delete(1)),
        ("budget", lambda: [autotask.contract_milestones.get(1) for _ in range(2)]),
    ]
    for name, call in calls:
        try:
            call()
        except errors.BillingMilestonesError as exc:
            out.append((name, exc))
    kantata = KantataClient("tok", http_client=http)
    invoiced = BillingMilestone.model_validate(
        {"id": "5", "title": "t", "invoice_id": "300", "amount_in_cents": 100, "workspace_id": "9"}
    )
    try:
        kantata.billing_milestones.delete(invoiced)
    except errors.BillingMilestonesError as exc:
        out.append(("invoiced", exc))
    runner = kantata._runner
    try:
        runner.request(RequestSpec("GET", "https://evil.example.net/api/v1/x"))
    except errors.BillingMilestonesError as exc:
        out.append(("host", exc))
    assert len(sent) == 1  # only the one get the budget admitted
    return out


def test_every_refusal_made_before_sending_is_a_request_not_sent_error() -> None:
    found = dict(_refusals())
    assert set(found) == {"delete", "budget", "invoiced", "host"}
    for exc in found.values():
        assert isinstance(exc, errors.RequestNotSentError)
    assert type(found["delete"]) is errors.UnsupportedOperationError
    assert type(found["budget"]) is errors.BudgetExhaustedError
    assert type(found["invoiced"]) is errors.InvoicedMilestoneRefusedError
    assert type(found["host"]) is errors.UntrustedHostError


def test_older_except_clauses_still_catch_the_refusals() -> None:
    found = dict(_refusals())
    assert isinstance(found["delete"], errors.APIStatusError)
    assert isinstance(found["budget"], errors.RateLimitError) and found["budget"].retry_after is not None
    assert isinstance(found["invoiced"], errors.MilestoneInvoicedError)
    assert isinstance(found["invoiced"], errors.UnprocessableEntityError)
    assert isinstance(found["host"], errors.PaginationError)
    for name in ("delete", "budget", "invoiced"):
        exc = found[name]
        assert isinstance(exc, errors.APIStatusError)
        assert exc.response is None and exc.request is None and exc.status_code is None


def test_a_refusal_is_never_retried() -> None:
    core = make_core()
    refusal = errors.BudgetExhaustedError("x", retry_after=0.1, platform="p", method="GET", path="/x")
    assert not core.should_retry(GET, refusal)
