"""The common view ``client.milestones`` on both clients."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from decimal import Decimal

import httpx
import pytest
import respx

from billing_milestones import errors
from billing_milestones._view import AsyncMilestoneView, MilestoneView
from billing_milestones.autotask import AsyncAutotaskClient, AutotaskClient, adapter
from billing_milestones.model import ChangeKind, Milestone, MilestoneKey, MilestoneStatus, Platform, Trigger
from billing_milestones.money import Money
from billing_milestones.sandbox import FaultPlan
from billing_milestones.sandbox.autotask import AutotaskSandbox

from .conftest import make_async_client, make_client
from .test_client import FIELDS


def new(title: str, amount: str, **kw: object) -> Milestone:
    return Milestone(title=title, amount=Money(amount, "USD"), due=dt.date(2026, 7, 1), **kw)


def test_protocols(client: AutotaskClient, aclient: AsyncAutotaskClient) -> None:
    assert isinstance(client.milestones, MilestoneView)
    assert isinstance(aclient.milestones, AsyncMilestoneView)
    assert client.milestones.platform is Platform.AUTOTASK


def test_list_translates_contract_milestones(client: AutotaskClient, sandbox: AutotaskSandbox) -> None:
    ids = sandbox.seed_demo()
    listed = list(client.milestones.list(str(ids["usd_contract"])))
    assert [m.status for m in listed] == [
        MilestoneStatus.BILLED,
        MilestoneStatus.PLANNED,
        MilestoneStatus.READY_TO_BILL,
    ]
    assert listed[0].locked and listed[0].is_initial_payment
    assert listed[1].amount == Money("7500.00", "USD")
    assert listed[1].key == MilestoneKey(
        platform=Platform.AUTOTASK, id=str(ids["design"]), container_id=str(ids["usd_contract"])
    )
    eur = list(client.milestones.list(str(ids["eur_contract"]), currency="EUR"))
    assert eur[0].amount == Money("20000", "EUR")


def test_currency_is_resolved_unless_given(sandbox: AutotaskSandbox) -> None:
    ids = sandbox.seed_demo()
    with make_client(sandbox, currency=None) as client:
        assert next(iter(client.milestones.list(str(ids["eur_contract"])))).amount == Money("20000", "EUR")
    with make_client(sandbox, currency={ids["eur_contract"]: "EUR"}) as client:
        assert next(iter(client.milestones.list(str(ids["eur_contract"])))).amount == Money("20000", "EUR")
    no_module = AutotaskSandbox(multi_currency=False)
    cid = no_module.add_contract()
    with make_client(no_module, currency=None) as client, pytest.raises(errors.ConfigError, match="currency="):
        list(client.milestones.list(str(cid)))


def test_create_keeps_sync_key_and_round_trips(client: AutotaskClient, sandbox: AutotaskSandbox) -> None:
    cid = sandbox.add_contract()
    wanted = [new("Design", "1000.10", description="Wireframes").with_sync_key("k-1"), new("Build", "2000")]
    created = client.milestones.create(str(cid), wanted)
    assert [m.title for m in created] == ["Design", "Build"]
    assert all(m.key is not None and m.key.container_id == str(cid) for m in created)
    stored = sandbox.milestones[int(created[0].key.id)]  # type: ignore[union-attr]
    assert stored["description"] == "Wireframes [bm:k-1]" and stored["amount"] == Decimal("1000.10")
    listed = list(client.milestones.stream(str(cid)))  # in creation order (list sorts by due, then title)
    assert listed[0].sync_key == "k-1" and listed[0].description == "Wireframes"
    assert [m.business_fields() for m in listed] == [m.business_fields() for m in wanted]


def test_create_translates_everything_before_sending(client: AutotaskClient, sandbox: AutotaskSandbox) -> None:
    cid = sandbox.add_contract()
    client.contract_milestones.status_picklist()
    posts = sandbox.count_requests("POST")
    batch = [new("ok", "1"), new("x" * 60, "2")]
    with pytest.raises(errors.TranslationError, match="title"):
        client.milestones.create(str(cid), batch)
    assert sandbox.count_requests("POST") == posts
    created = client.milestones.create(str(cid), batch, truncate=True)
    assert created[1].title == "x" * 50 and created[1].changes[0].kind is ChangeKind.TRUNCATED
    story = new("story", "3", trigger=Trigger.on_completion("77"))
    with pytest.raises(errors.TranslationError, match="on_completion"):
        client.milestones.create(str(cid), [story])
    done = client.milestones.create(str(cid), [story], fallback_due=dt.date(2026, 8, 1))
    assert done[0].due == dt.date(2026, 7, 1) and done[0].changes[0].field == "trigger"


def test_update_patches_only_changed_fields(client: AutotaskClient, sandbox: AutotaskSandbox) -> None:
    ids = sandbox.seed_demo()
    design = next(m for m in client.milestones.list(str(ids["usd_contract"])) if m.title == "Design sign-off")
    assert client.milestones.update(design) == design.model_copy(update={"raw": design.raw})
    assert sandbox.count_requests("PATCH") == 0  # nothing changed, nothing sent
    changed = design.model_copy(update={"amount": Money("8000", "USD"), "status": MilestoneStatus.READY_TO_BILL})
    result = client.milestones.update(changed)
    assert result.amount == Money("8000.00", "USD") and result.status is MilestoneStatus.READY_TO_BILL
    assert sandbox.count_requests("PATCH") == 1
    assert sandbox.milestones[ids["design"]]["status"] == 2
    assert sandbox.milestones[ids["design"]]["amount"] == Decimal("8000.00")


@respx.mock
def test_update_patch_body_carries_only_the_diff() -> None:
    zone = "https://webservices5.autotask.net/ATServicesRest/V1.0"
    respx.get(f"{zone}/ContractMilestones/entityInformation/fields").mock(return_value=httpx.Response(200, json=FIELDS))
    patch = respx.patch(f"{zone}/Contracts/7/Milestones").mock(return_value=httpx.Response(200, json={"itemId": 11}))
    raw = {
        "id": 11,
        "contractID": 7,
        "title": "Design",
        "description": "D [bm:k9]",
        "amount": Decimal("10.00"),
        "dateDue": "2026-03-31T00:00:00",
        "status": 1,
        "isInitialPayment": False,
        "billingCodeID": 5,
    }
    with AutotaskClient("u@x", "secret-1", "CODE", base_url=zone, currency="USD") as client:
        current = adapter.to_milestone(
            raw, picklist={1: "Not Ready to Bill", 2: "Ready to Bill", 3: "Billed"}, currency="USD"
        )
        result = client.milestones.update(current.model_copy(update={"amount": Money("12.5", "USD")}))
    assert json.loads(patch.calls[0].request.content) == {"id": 11, "amount": 12.50}
    assert result.amount == Money("12.50", "USD") and result.sync_key == "k9" and result.raw["billingCodeID"] == 5


def test_update_without_raw_reads_first(client: AutotaskClient, sandbox: AutotaskSandbox) -> None:
    ids = sandbox.seed_demo()
    key = MilestoneKey(platform=Platform.AUTOTASK, id=str(ids["launch"]), container_id=str(ids["usd_contract"]))
    bare = Milestone(
        key=key,
        title="Launch v2",
        amount=Money("12500", "USD"),
        due=dt.date(2026, 6, 30),
        status=MilestoneStatus.READY_TO_BILL,
    )
    result = client.milestones.update(bare)
    assert result.title == "Launch v2" and sandbox.milestones[ids["launch"]]["title"] == "Launch v2"
    assert sandbox.count_requests("GET", rf"/ContractMilestones/{ids['launch']}$") == 1


def test_locked_and_delete_refused(client: AutotaskClient, sandbox: AutotaskSandbox) -> None:
    ids = sandbox.seed_demo()
    deposit = next(iter(client.milestones.list(str(ids["usd_contract"]))))
    with pytest.raises(errors.ValidationError, match="locked"):
        client.milestones.update(deposit.model_copy(update={"title": "new"}))
    assert deposit.key is not None
    with pytest.raises(errors.UnsupportedOperationError, match="does not allow deleting"):
        client.milestones.delete(deposit.key)
    assert sandbox.count_requests("PATCH") == 0 and sandbox.count_requests("DELETE") == 0


async def test_async_view(aclient: AsyncAutotaskClient, sandbox: AutotaskSandbox) -> None:
    ids = sandbox.seed_demo()
    listed = [m async for m in aclient.milestones.list(str(ids["usd_contract"]))]
    assert len(listed) == 3
    design = listed[1]
    updated = await aclient.milestones.update(design.model_copy(update={"title": "Design v2"}))
    assert updated.title == "Design v2" and sandbox.milestones[ids["design"]]["title"] == "Design v2"
    with pytest.raises(errors.UnsupportedOperationError):
        await aclient.milestones.delete(updated.key)  # type: ignore[arg-type]
    with pytest.raises(errors.ValidationError, match="locked"):
        await aclient.milestones.update(listed[0])


async def test_async_creates_run_concurrently_only_across_calls_bounded_by_max_threads(
    sandbox: AutotaskSandbox,
) -> None:
    """One create call sends one milestone after the other, as the sync client does; several calls at once
    share the client's per-endpoint limit (max_threads, 3), so Autotask's thread threshold is never hit."""
    sandbox.faults = FaultPlan().latency(0.02, method="POST")
    cid = sandbox.add_contract()
    batch = [new(f"M{i}", f"{i}.00").with_sync_key(f"k{i}") for i in range(1, 11)]
    async with make_async_client(sandbox, max_retries=0) as client:
        created = await client.milestones.create(str(cid), batch[:3])
        assert sandbox.max_in_flight["contractmilestones"] == 1
        more = await asyncio.gather(*(client.milestones.create(str(cid), [m]) for m in batch[3:]))
    created += [m for ms in more for m in ms]
    assert [m.title for m in created] == [m.title for m in batch]
    assert [m.sync_key for m in created] == [f"k{i}" for i in range(1, 11)]
    assert sandbox.max_in_flight["contractmilestones"] == 3 and sandbox.thread_threshold_errors == 0
    assert len([m for m in sandbox.milestones.values() if m["contractID"] == cid]) == 10


async def test_async_create_reports_failures(sandbox: AutotaskSandbox) -> None:
    ids = sandbox.seed_demo()
    async with make_async_client(sandbox) as client:
        with pytest.raises(errors.InternalServerError, match="Fixed Price"):
            await client.milestones.create(str(ids["tm_contract"]), [new("a", "1")])
