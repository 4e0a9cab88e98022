"""The crm.com client and emulator against crm.com's own description (``../shared/specs/crmcom``).

Every Self-Service operation the SDK uses is driven through the sync and the async client on the in-process
sandbox with a recording transport underneath: each request the client sent must fit the description, and each
answer the emulator gave must fit its documented response (error answers are documented in prose only, so only
their status is checked). Backoffice (``api="backoffice"``) has no published description and is not checked.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Unpack

import httpx
import pytest

from billing_milestones.crmcom import (
    AsyncCrmComClient,
    CrmComClient,
    EstimateFields,
    MilestoneRequest,
    OrderDraft,
    OrderItem,
)
from billing_milestones.errors import AuthenticationError, NotFoundError
from billing_milestones.sandbox.crmcom import CrmComSandbox, DemoSeed

from ._openapi import ApiDescription, Exchange
from ._recording import Recorder, isolated_secrets


def _draft(seed: DemoSeed, currency: str = "EUR", **extra: Unpack[EstimateFields]) -> EstimateFields:
    return {
        "account_id": seed.account_id,
        "supply_method": "PICK_UP",
        "delivery_method": "COURIER_SERVICE",
        "payment_method_type": "CASH",
        "items": [OrderItem(id=seed.products[currency], quantity=2)],
        "queue_id": seed.queues["standard"],
        **extra,
    }


def _sync_session(sandbox: CrmComSandbox, seed: DemoSeed) -> list[Exchange]:
    recorder = Recorder(sandbox.transport())
    with CrmComClient(seed.secret_key, http_client=httpx.Client(transport=recorder)) as crm:
        first = crm.estimates.order(**_draft(seed))
        stages = seed.stages["standard"]
        crm.estimates.order(
            **_draft(
                seed,
                estimation_id=first.id,
                milestones=[
                    MilestoneRequest(stage_id=stages[0], percentage=Decimal(50)),
                    MilestoneRequest(stage_id=stages[1], amount=Decimal("100.00")),
                ],
            )
        )
        container = crm.milestones.open_draft(OrderDraft.model_validate(_draft(seed, "JPY")))
        list(crm.milestones.list(container))
        token = crm.authenticate_contact(seed.public_key, username=seed.email, password=seed.password)
        crm.refresh_contact_token()
        estimate = crm.estimates.order(**_draft(seed, "USD"))
        created = crm.orders.submit(estimate.id, payments=[{"payment_method_type": "CASH"}])
        crm.orders.get(created.id)
        assert token.contact_id is not None
        list(crm.orders.list_for_contact(token.contact_id, size=1, include_total=True))
        with pytest.raises(NotFoundError):
            crm.orders.get("no-such-order")
        with pytest.raises(AuthenticationError):
            crm.authenticate_contact(seed.public_key, username=seed.email, password="crmcom-contract-wrong-password")
    return recorder.exchanges


async def _async_session(sandbox: CrmComSandbox, seed: DemoSeed) -> list[Exchange]:
    recorder = Recorder(sandbox.transport())
    async with AsyncCrmComClient(seed.secret_key, http_client=httpx.AsyncClient(transport=recorder)) as crm:
        await crm.authenticate_contact(seed.public_key, username=seed.email, password=seed.password)
        estimate = await crm.estimates.order(**_draft(seed, "KWD"))
        created = await crm.orders.submit(estimate.id, payments=[{"payment_method_type": "CARD"}])
        await crm.orders.get(created.id)
        [o async for o in crm.orders.list_for_contact(seed.contact_id, order="ASC")]
        await crm.refresh_contact_token()
    return recorder.exchanges


@pytest.fixture(scope="module")
def exchanges() -> list[Exchange]:
    sandbox = CrmComSandbox()
    seed = sandbox.seed_demo()
    with isolated_secrets():
        return _sync_session(sandbox, seed) + asyncio.run(_async_session(sandbox, seed))


def test_the_session_reaches_every_documented_operation(crmcom_api: ApiDescription, exchanges: list[Exchange]) -> None:
    """Without this a shrinking scenario would let the checks below pass on fewer and fewer operations."""
    reached = set()
    for x in exchanges:
        found = crmcom_api.find(x.request.method, x.request.url)
        assert found is not None, x.label()
        reached.add((found[0].method, found[0].template))
    assert reached == {(op.method, op.template) for op in crmcom_api.operations}
    assert {200, 201, 401, 404} <= {x.response.status_code for x in exchanges}


def test_every_request_the_client_sends_fits_the_description(
    crmcom_api: ApiDescription, exchanges: list[Exchange]
) -> None:
    assert [p for x in exchanges for p in crmcom_api.check_request(x.request)] == []


def test_every_answer_the_emulator_gives_fits_the_documented_response(
    crmcom_api: ApiDescription, exchanges: list[Exchange]
) -> None:
    assert [p for x in exchanges for p in crmcom_api.check_response(x)] == []
