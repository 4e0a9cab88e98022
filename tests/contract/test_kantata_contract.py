"""The Kantata client and emulator against Kantata's own description (``../shared/specs/kantata``).

Every operation the SDK uses is driven through the sync and the async client on the in-process sandbox, with
a recording transport underneath; each request the client put on the wire must fit the description and each
answer the emulator gave must fit its documented response. Stories (``GET /stories``, ``/stories/{id}``) are
not in the excerpt and are the one thing the SDK sends that nothing here can check (docs/platforms/kantata.md).
"""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from billing_milestones.errors import AuthenticationError, NotFoundError, UnprocessableEntityError
from billing_milestones.kantata import AsyncKantataClient, KantataClient
from billing_milestones.sandbox.kantata import KantataSandbox

from ._openapi import ApiDescription, Exchange
from ._recording import Recorder, isolated_secrets

REF = {"service_name": "billing-milestones", "service_model": "crmcom.Milestone", "service_model_ref": "st-1"}


def _sync_session(sandbox: KantataSandbox, ids: dict[str, object]) -> list[Exchange]:
    recorder = Recorder(sandbox.transport())
    workspaces = ids["workspaces"]
    assert isinstance(workspaces, dict)
    usd = workspaces["USD"]
    with KantataClient("kantata-contract-token", http_client=httpx.Client(transport=recorder)) as kantata:
        kantata.workspaces.get(usd)
        list(kantata.billing_milestones.list(workspace_ids=[usd], include=["external_references", "invoices"]))
        list(kantata.billing_milestones.list(date_between=(dt.date(2026, 1, 1), dt.date(2026, 12, 31)), per_page=2))
        created = kantata.billing_milestones.create(
            workspace_id=usd,
            title="Kick-off",
            amount_in_cents=1250,
            external_reference=REF,
            date_to_invoice=dt.date(2026, 5, 1),
            include=["external_references"],
        )
        kantata.billing_milestones.create_many(
            [{"workspace_id": usd, "title": f"Part {i}", "amount_in_cents": 100 * i} for i in range(1, 4)]
        )
        kantata.billing_milestones.get(created.id, include="external_references")
        list(kantata.billing_milestones.list(external_reference_service_name="billing-milestones", only=[created.id]))
        kantata.billing_milestones.update(created, title="Kick-off (moved)", date_to_invoice=dt.date(2026, 6, 1))
        kantata.billing_milestones.delete(created.id)
        with pytest.raises(NotFoundError):
            kantata.billing_milestones.get(created.id)
        with pytest.raises(NotFoundError):
            kantata.workspaces.get(999999)
        milestones = ids["milestones"]
        assert isinstance(milestones, dict)
        with pytest.raises(UnprocessableEntityError):  # invoiced: the server's 422, by id the client cannot know
            kantata.billing_milestones.update(milestones["usd_deposit"], title="Deposit (late)")
        story = next(iter(kantata.stories.list(workspace_id=usd)))
        kantata.stories.get(story.id)
    strict = KantataSandbox(tokens={"the-right-token"})
    refused = Recorder(strict.transport())
    with (
        KantataClient("a-wrong-token", http_client=httpx.Client(transport=refused)) as wrong,
        pytest.raises(AuthenticationError),
    ):
        wrong.workspaces.get(usd)
    return recorder.exchanges + refused.exchanges


async def _async_session(sandbox: KantataSandbox, workspace: str) -> list[Exchange]:
    recorder = Recorder(sandbox.transport())
    async with AsyncKantataClient(
        "kantata-contract-token", http_client=httpx.AsyncClient(transport=recorder)
    ) as kantata:
        await kantata.workspaces.get(workspace)
        made = await kantata.billing_milestones.create(workspace_id=workspace, title="Async", amount_in_cents=5)
        [m async for m in kantata.billing_milestones.list(workspace_ids=workspace)]
        await kantata.billing_milestones.update(made.id, amount_in_cents=6)
        await kantata.billing_milestones.delete(made.id)
    return recorder.exchanges


@pytest.fixture(scope="module")
def exchanges() -> list[Exchange]:
    import asyncio

    sandbox = KantataSandbox()
    ids = sandbox.seed_demo()
    with isolated_secrets():
        recorded = _sync_session(sandbox, ids)
        return recorded + asyncio.run(_async_session(sandbox, ids["workspaces"]["JPY"]))


def test_the_session_reaches_every_documented_operation(kantata_api: ApiDescription, exchanges: list[Exchange]) -> None:
    """Without this a shrinking scenario would let the checks below pass on fewer and fewer operations."""
    reached = {
        (op.method, op.template)
        for x in exchanges
        if (found := kantata_api.find(x.request.method, x.request.url))
        for op in [found[0]]
    }
    assert reached == {(op.method, op.template) for op in kantata_api.operations}
    statuses = {x.response.status_code for x in exchanges}
    assert {200, 204, 401, 404, 422} <= statuses


def test_every_request_the_client_sends_fits_the_description(
    kantata_api: ApiDescription, exchanges: list[Exchange]
) -> None:
    stories = [x for x in exchanges if kantata_api.find(x.request.method, x.request.url) is None]
    assert {x.request.url.path.split("/")[3] for x in stories} == {"stories"}  # the one unchecked collection
    checked = [x for x in exchanges if x not in stories]
    assert [p for x in checked for p in kantata_api.check_request(x.request)] == []


def test_every_answer_the_emulator_gives_fits_the_documented_response(
    kantata_api: ApiDescription, exchanges: list[Exchange]
) -> None:
    checked = [x for x in exchanges if kantata_api.find(x.request.method, x.request.url) is not None]
    assert [p for x in checked for p in kantata_api.check_response(x)] == []


def test_the_excerpt_has_no_examples_to_parse(kantata_api: ApiDescription) -> None:
    """Kantata's description documents no examples; when a new excerpt brings some, this asks for their check."""
    assert list(kantata_api.examples()) == []
