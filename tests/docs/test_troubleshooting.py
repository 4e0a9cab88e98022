"""The troubleshooting page quotes the messages users actually see: each is produced here by the real
client code (against a recorded answer, or the sandbox) and must appear on the page word for word."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from billing_milestones import AutotaskClient, CrmComClient, KantataClient, errors
from billing_milestones.sandbox import CrmComSandbox

PAGE = Path(__file__).resolve().parents[2] / "docs" / "troubleshooting.md"
AUTOTASK_V1 = "https://webservices5.autotask.net/ATServicesRest/V1.0"


def answering(status: int, body: object) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(status, json=body)))


def autotask(http_client: httpx.Client, base_url: str | None = AUTOTASK_V1) -> AutotaskClient:
    return AutotaskClient(
        "sync-user@example.com", "secret", "code", base_url=base_url, currency="USD", http_client=http_client
    )


def autotask_404() -> None:
    base = "https://webservices5.autotask.net/ATServicesRest/V2"
    list(autotask(answering(404, {"errors": ["not found"]}), base).milestones.list("29683001"))


def autotask_thread_threshold() -> None:
    body = {"errors": ["Internal Server Error: thread threshold of 3 exceeded for the ContractMilestones endpoint"]}
    list(autotask(answering(500, body)).with_options(max_retries=0).milestones.list("29683001"))


def autotask_401_after_a_zone_move() -> None:
    zone = {"zoneName": "Pre-release", "url": "https://webservices5.autotask.net/ATServicesRest/", "ci": 5}
    lookups = []

    def answer(request: httpx.Request) -> httpx.Response:
        if "zoneinformation" in request.url.path.lower():
            lookups.append(request.url)
            return httpx.Response(200, json=zone)
        return httpx.Response(401, json={"message": "Authorization has been denied for this request."})

    client = autotask(httpx.Client(transport=httpx.MockTransport(answer)), base_url=None)
    try:
        list(client.milestones.list("29683001"))
    finally:
        assert len(lookups) == 2  # looked the zone up again after the 401, as the page says


def kantata_post(body: object) -> Callable[[], None]:
    def post() -> None:
        client = KantataClient("token", http_client=answering(422, body), max_retries=0)
        client.billing_milestones.create(workspace_id="1001", title="Deposit", amount_in_cents=100)

    return post


def crm_sandbox() -> tuple[CrmComSandbox, str]:
    sandbox = CrmComSandbox()
    return sandbox, sandbox.seed_demo().contact_id


def crmcom_expired_token() -> None:
    sandbox, contact = crm_sandbox()
    client = CrmComClient(bearer_token="expired-or-unknown-token", http_client=sandbox.http_client(), max_retries=0)
    list(client.orders.list_for_contact(contact))


def crmcom_refresh_refused() -> None:
    sandbox, contact = crm_sandbox()
    client = CrmComClient(
        bearer_token="eyJ0eXAiOiJKV1QiLCJhbGciOi-expired",
        refresh_token="rt-7d1c2e9b4a-revoked",
        token_expires_at=0,
        http_client=sandbox.http_client(),
        max_retries=0,
    )
    list(client.orders.list_for_contact(contact))


def crmcom_no_refresh_token() -> None:
    sandbox, _ = crm_sandbox()
    CrmComClient(
        bearer_token="eyJ0eXAiOiJKV1QiLCJhbGciOi-expired", http_client=sandbox.http_client()
    ).refresh_contact_token()


CASES: list[tuple[str, Callable[[], None], type[Exception]]] = [
    ("autotask-404-without-v10", autotask_404, errors.NotFoundError),
    ("autotask-thread-threshold", autotask_thread_threshold, errors.RateLimitError),
    ("autotask-401-after-a-zone-move", autotask_401_after_a_zone_move, errors.AuthenticationError),
    (
        "kantata-422",
        kantata_post(
            {
                "errors": [
                    {"type": "validation", "message": "Date to invoice can't be blank", "field": "date_to_invoice"}
                ]
            }
        ),
        errors.UnprocessableEntityError,
    ),
    (
        "kantata-422",
        kantata_post(
            {
                "errors": [
                    {
                        "type": "validation",
                        "message": "Billing milestone has been invoiced and cannot be changed",
                        "field": "invoice_id",
                    }
                ]
            }
        ),
        errors.MilestoneInvoicedError,
    ),
    ("crmcom-token-expiry", crmcom_expired_token, errors.AuthenticationError),
    ("crmcom-token-expiry", crmcom_refresh_refused, errors.AuthenticationError),
    ("crmcom-token-expiry", crmcom_no_refresh_token, errors.ValidationError),
]


def section(anchor: str) -> str:
    """The page's text under the heading with this anchor, quote markers removed, whitespace collapsed."""
    text = PAGE.read_text(encoding="utf-8")
    start = text.index("{#" + anchor + "}")
    end = text.find("\n## ", start)
    body = text[start : end if end != -1 else None]
    return " ".join(re.sub(r"^> ?", "", body, flags=re.MULTILINE).split())


@pytest.mark.parametrize(("anchor", "cause", "kind"), CASES, ids=[f"{a}-{c.__name__}" for a, c, _ in CASES])
def test_the_page_quotes_the_real_message(anchor: str, cause: Callable[[], None], kind: type[Exception]) -> None:
    with pytest.raises(kind) as caught:
        cause()
    message = " ".join(str(caught.value).split())
    assert message in section(anchor), f"docs/troubleshooting.md#{anchor} should quote: {message}"
