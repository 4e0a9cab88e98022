"""CrmComClient / AsyncCrmComClient against the in-process and the loopback crm.com sandbox."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from billing_milestones.crmcom import (
    AsyncCrmComClient,
    CrmComClient,
    OrderDraft,
    OrderItem,
)
from billing_milestones.errors import (
    AuthenticationError,
    PermissionDeniedError,
)
from billing_milestones.sandbox import LoopbackServer
from billing_milestones.sandbox.crmcom import CrmComSandbox, DemoSeed


# ======================================================================================================
# against the sandbox
# ======================================================================================================
def test_sandbox_estimate_submit_get_and_list(client: CrmComClient, seed: DemoSeed, make_draft: Any) -> None:
    estimate = client.estimates.order(make_draft("USD", quantity=3))
    assert estimate.total == Decimal("59.97") and estimate.currency_code == "USD"
    assert [p.amount for p in estimate.plan()] == [Decimal("17.99"), Decimal("17.99"), Decimal("23.99")]
    with pytest.raises(AuthenticationError, match="Bearer"):
        client.orders.submit(estimate.id or "", payments=[{"payment_method_type": "CASH"}])
    client.authenticate_contact(seed.public_key, username=seed.email, password=seed.password)
    created = client.orders.submit(
        estimate.id or "", payments=[{"payment_method_type": "CASH", "amount": Decimal("59.97")}]
    )
    order = client.orders.get(created.id)
    assert order.total == Decimal("59.97") and order.currency_code == "USD" and order.state == "NEW"
    assert [o.id for o in client.orders.list_for_contact(seed.contact_id)] == [created.id]


async def test_async_sandbox_estimate_submit_get_and_list(
    aclient: AsyncCrmComClient, seed: DemoSeed, make_draft: Any
) -> None:
    estimate = await aclient.estimates.order(make_draft("KWD", quantity=1, queue="thirds"))
    assert estimate.total == Decimal("10.005")
    assert [p.amount for p in estimate.plan()] == [Decimal("3.335"), Decimal("3.335"), Decimal("3.335")]
    await aclient.authenticate_contact(seed.public_key, username=seed.email, password=seed.password)
    created = await aclient.orders.submit(estimate.id or "", payments=[{"payment_method_type": "CASH"}])
    assert (await aclient.orders.get(created.id)).total == Decimal("10.005")
    assert [o.id async for o in aclient.orders.list_for_contact(seed.contact_id)] == [created.id]


def _submit_orders(sandbox: CrmComSandbox, seed: DemoSeed, client: CrmComClient, make_draft: Any, n: int) -> list[str]:
    access, _, _ = sandbox.issue_token(seed.contact_id)
    with CrmComClient(bearer_token=access, http_client=sandbox.http_client()) as contact:
        return [
            contact.orders.submit(
                contact.estimates.order(make_draft("JPY")).id or "", payments=[{"payment_method_type": "CASH"}]
            ).id
            for _ in range(n)
        ]


def test_sandbox_contact_orders_paginate(sandbox: CrmComSandbox, seed: DemoSeed, make_draft: Any) -> None:
    client = CrmComClient(bearer_token=sandbox.issue_token(seed.contact_id)[0], http_client=sandbox.http_client())
    ids = _submit_orders(sandbox, seed, client, make_draft, 7)
    assert [o.id for o in client.orders.list_for_contact(seed.contact_id, size=3, order="ASC")] == ids
    assert [o.id for o in client.orders.list_for_contact(seed.contact_id, size=3)] == ids[::-1]
    pages = list(client.orders.list_for_contact_pages(seed.contact_id, size=3, include_total=True))
    assert [len(p.items) for p in pages] == [3, 3, 1] and {p.total for p in pages} == {7}
    assert sandbox.count_requests("GET", r"/contacts/.*/orders") == 2 * 3 + 3
    with pytest.raises(PermissionDeniedError):
        list(client.orders.list_for_contact(seed.other_contact_id))


async def test_async_sandbox_contact_orders_paginate(
    sandbox: CrmComSandbox, seed: DemoSeed, client: CrmComClient, make_draft: Any
) -> None:
    ids = _submit_orders(sandbox, seed, client, make_draft, 5)
    access = sandbox.issue_token(seed.contact_id)[0]
    async with AsyncCrmComClient(bearer_token=access, http_client=sandbox.async_http_client()) as aclient:
        got = [o.id async for o in aclient.orders.list_for_contact(seed.contact_id, size=2, order="ASC")]
    assert got == ids


def test_sandbox_rejects_bad_credentials(sandbox: CrmComSandbox, seed: DemoSeed, make_draft: Any) -> None:
    with CrmComClient("sk-wrong-key", http_client=sandbox.http_client()) as bad, pytest.raises(AuthenticationError):
        bad.estimates.order(make_draft())
    with CrmComClient(seed.secret_key, http_client=sandbox.http_client()) as good:
        with pytest.raises(AuthenticationError, match="Invalid credentials"):
            good.authenticate_contact(seed.public_key, username=seed.email, password="not-the-demo-password")
        with pytest.raises(AuthenticationError, match="contact access token"):  # Self-Service: a contact's Bearer
            good.orders.get("missing")


def test_sandbox_token_expiry_triggers_refresh() -> None:
    now = [1_000_000.0]
    sandbox = CrmComSandbox(clock=lambda: now[0], token_ttl=600)
    seed = sandbox.seed_demo()
    draft = OrderDraft(
        account_id=seed.account_id,
        supply_method="DELIVERY",
        delivery_method="COURIER_SERVICE",
        payment_method_type="CASH",
        items=[OrderItem(id=seed.products["EUR"])],
    )
    with CrmComClient(http_client=sandbox.http_client()) as client:
        client._auth.clock = lambda: now[0]
        client.authenticate_contact(seed.public_key, username=seed.email, password=seed.password)
        first = client._auth.access_token
        estimate = client.estimates.order(draft)  # the contact's own token works for estimates too
        now[0] += 590  # inside the client's refresh window, before the server's expiry
        client.orders.submit(estimate.id or "", payments=[{"payment_method_type": "CASH"}])
        assert client._auth.access_token != first
        now[0] += 10_000  # far past expiry: refreshed again, never sent stale
        assert client.orders.get(next(iter(sandbox.orders))).total == Decimal("1469.13")
    assert sandbox.count_requests("POST", "/contacts/refresh") == 2
    assert all(e.status != 401 for e in sandbox.request_log)


def test_loopback_round_trip(seed: DemoSeed, sandbox: CrmComSandbox, make_draft: Any) -> None:
    with LoopbackServer(sandbox.asgi_app()) as server, CrmComClient(seed.secret_key, base_url=server.url) as client:
        draft_id = client.milestones.open_draft(make_draft("JPY", queue="thirds"))
        plan = list(client.milestones.stream(draft_id))  # stage order (list sorts by title)
        assert [m.amount.amount for m in plan if m.amount] == [Decimal(4526), Decimal(4526), Decimal(4527)]
        client.authenticate_contact(seed.public_key, username=seed.email, password=seed.password)
        created = client.orders.submit(draft_id, payments=[{"payment_method_type": "CASH"}])
        assert client.orders.get(created.id).total == Decimal(13579)
