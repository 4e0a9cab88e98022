"""crm.com containers (order drafts) are checked, and an estimate is its milestone plan or an error, sync and async.

A draft that does not exist, or whose account or estimation does not, must raise naming it before any write;
an error body or a plan-less body in place of an estimate must raise, never list as "no milestones" (which a
sync would turn into deletes). The ``overrides`` fixture (conftest) replaces the sandbox's next answer to a path.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from billing_milestones.crmcom import AsyncCrmComClient, CrmComClient
from billing_milestones.crmcom._errors import DraftNotFoundError
from billing_milestones.errors import (
    APIResponseValidationError,
    BadRequestError,
    ConfigError,
    NotFoundError,
    ValidationError,
)
from billing_milestones.model import Milestone, MilestoneKey, Platform, Trigger
from billing_milestones.sandbox.crmcom import CrmComSandbox, DemoSeed

ERROR_BODIES: list[tuple[dict[str, Any], type[Exception]]] = [
    ({"status": 404, "message": "Estimation gone", "error": "NOT_FOUND", "parameters": None}, NotFoundError),
    ({"status": 400, "message": "Invalid milestones", "error": "INVALID_MILESTONES"}, BadRequestError),
    ({"errors": [{"message": "Estimation gone"}]}, APIResponseValidationError),
    ({"error": "Estimation gone"}, APIResponseValidationError),
]


def estimates(sandbox: CrmComSandbox) -> int:
    return sandbox.count_requests("POST", "/estimates/orders")


def stage_milestone(stage: str) -> Milestone:
    return Milestone(title="m", percentage=Decimal(10), trigger=Trigger.on_stage(stage))


# -- unknown drafts ---------------------------------------------------------------------------------------
def test_an_unknown_draft_is_refused_by_name_before_any_request(
    client: CrmComClient, sandbox: CrmComSandbox, seed: DemoSeed
) -> None:
    stage = seed.stages["standard"][0]
    key = MilestoneKey(platform=Platform.CRMCOM, id=f"est-nope:{stage}", container_id="est-nope")
    calls: list[Callable[[], object]] = [
        lambda: list(client.milestones.list("est-nope")),
        lambda: client.milestones.create("est-nope", [stage_milestone(stage)]),
        lambda: client.milestones.replace("est-nope", [stage_milestone(stage)]),
        lambda: client.milestones.update(stage_milestone(stage).model_copy(update={"key": key})),
        lambda: client.milestones.delete(key),
    ]
    for call in calls:
        with pytest.raises(DraftNotFoundError, match="'est-nope'") as caught:
            call()
        # the CLI reports a ConfigError by key; older callers catch the ValidationError
        assert isinstance(caught.value, ConfigError) and isinstance(caught.value, ValidationError)
        assert caught.value.container_id == "est-nope" and caught.value.field == "container_id"
    assert estimates(sandbox) == 0


async def test_an_unknown_draft_is_refused_by_name_async(aclient: AsyncCrmComClient, sandbox: CrmComSandbox) -> None:
    with pytest.raises(DraftNotFoundError, match="'est-nope'"):
        [m async for m in aclient.milestones.list("est-nope")]
    with pytest.raises(DraftNotFoundError, match="'est-nope'"):
        await aclient.milestones.replace("est-nope", [])
    assert estimates(sandbox) == 0


def test_a_draft_whose_account_does_not_exist_names_it(client: CrmComClient, make_draft: Any) -> None:
    with pytest.raises(NotFoundError, match="Account acc-missing not found"):
        client.milestones.open_draft(make_draft().model_copy(update={"account_id": "acc-missing"}))


async def test_a_draft_whose_estimation_does_not_exist_names_it(aclient: AsyncCrmComClient, make_draft: Any) -> None:
    with pytest.raises(NotFoundError, match="Estimation est-missing not found"):
        await aclient.milestones.open_draft(make_draft(estimation_id="est-missing"))


def test_an_estimation_answered_with_another_id_is_not_adopted(
    oclient: CrmComClient, overrides: Any, make_draft: Any
) -> None:
    first = oclient.milestones.open_draft(make_draft())
    reply = oclient.milestones.last_estimate(first).model_dump(mode="python", exclude_unset=True)
    overrides.queue("POST", "/estimates/orders", {**reply, "id": "est-other"})
    with pytest.raises(NotFoundError, match=f"estimation '{first}'.*'est-other'"):
        oclient.milestones.open_draft(make_draft(estimation_id=first))


# -- an estimate that is not a plan -----------------------------------------------------------------------
@pytest.mark.parametrize(("body", "error"), ERROR_BODIES)
def test_an_error_body_in_place_of_an_estimate_raises(
    oclient: CrmComClient, overrides: Any, make_draft: Any, body: dict[str, Any], error: type[Exception]
) -> None:
    draft_id = oclient.milestones.open_draft(make_draft())
    before = oclient.milestones.last_estimate(draft_id)
    overrides.queue("POST", "/estimates/orders", body)
    with pytest.raises(error) as caught:
        list(oclient.milestones.list(draft_id))
    assert "Estimation gone" in str(caught.value) or "Invalid milestones" in str(caught.value)
    assert oclient.milestones.last_estimate(draft_id) is before  # nothing recorded from the error
    overrides.queue("POST", "/estimates/orders", body)
    with pytest.raises(error):
        oclient.estimates.order(make_draft())


@pytest.mark.parametrize(("body", "error"), ERROR_BODIES)
async def test_an_error_body_in_place_of_an_estimate_raises_async(
    aoclient: AsyncCrmComClient,
    overrides: Any,
    make_draft: Any,
    body: dict[str, Any],
    error: type[Exception],
) -> None:
    draft_id = await aoclient.milestones.open_draft(make_draft())
    overrides.queue("POST", "/estimates/orders", body)
    with pytest.raises(error):
        [m async for m in aoclient.milestones.list(draft_id)]
    overrides.queue("POST", "/estimates/orders", body)
    with pytest.raises(error):
        await aoclient.milestones.replace(draft_id, [])


def test_an_error_status_with_an_error_body_still_maps_by_http_status(
    oclient: CrmComClient, overrides: Any, make_draft: Any
) -> None:
    overrides.queue("POST", "/estimates/orders", {"errors": ["gone"]}, status=404)
    with pytest.raises(NotFoundError, match="gone"):
        oclient.estimates.order(make_draft())


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda b: b.pop("milestone_plan_estimate") and b.pop("orders"), "unknown, not empty"),
        (lambda b: b.update(milestone_plan_estimate=None, orders=None), "unknown, not empty"),
        (lambda b: b.update(milestone_plan_estimate=None, orders=[*b["orders"], *b["orders"]]), "never merged"),
        (lambda b: b["milestone_plan_estimate"].append(b["milestone_plan_estimate"][0]), "appears twice"),
        (lambda b: b.pop("invoice_estimate"), "invoice_estimate"),
        (lambda b: b.pop("id"), "id"),
        (lambda b: b["milestone_plan_estimate"][0]["stage"].pop("id"), "stage.id"),
        (lambda b: b["milestone_plan_estimate"][0].update(amount=True), "boolean"),
        (lambda b: b["milestone_plan_estimate"][0].update(percentage="30"), "string"),
        (lambda b: b["milestone_plan_estimate"][0]["stage"].update(id=7), "string"),
        (lambda b: b["invoice_estimate"].update(currency_code=None), "currency_code"),
    ],
)
def test_an_estimate_without_a_usable_plan_raises_and_is_not_recorded(
    oclient: CrmComClient, overrides: Any, make_draft: Any, mutate: Any, match: str
) -> None:
    draft_id = oclient.milestones.open_draft(make_draft())
    listed = list(oclient.milestones.list(draft_id))
    assert len(listed) == 3
    body = oclient.milestones.last_estimate(draft_id).model_dump(mode="python", exclude_unset=True)
    mutate(body)
    overrides.queue("POST", "/estimates/orders", body)
    with pytest.raises(APIResponseValidationError, match=match):
        list(oclient.milestones.list(draft_id))
    assert list(oclient.milestones.list(draft_id)) == listed  # the next good estimate reads as before


async def test_an_estimate_without_a_plan_raises_async(
    aoclient: AsyncCrmComClient, overrides: Any, make_draft: Any
) -> None:
    draft_id = await aoclient.milestones.open_draft(make_draft())
    body = aoclient.milestones.last_estimate(draft_id).model_dump(mode="python", exclude_unset=True)
    del body["milestone_plan_estimate"], body["orders"]
    overrides.queue("POST", "/estimates/orders", body)
    with pytest.raises(APIResponseValidationError, match="unknown, not empty"):
        [m async for m in aoclient.milestones.list(draft_id)]


# -- contacts and identity --------------------------------------------------------------------------------
def test_the_orders_of_a_contact_that_does_not_exist_name_it(client: CrmComClient, seed: DemoSeed) -> None:
    client.authenticate_contact(seed.public_key, username=seed.email, password=seed.password)  # lists need a contact
    with pytest.raises(NotFoundError, match="Contact c-missing not found"):
        list(client.orders.list_for_contact("c-missing"))


async def test_the_orders_of_a_contact_that_does_not_exist_name_it_async(
    aclient: AsyncCrmComClient, seed: DemoSeed
) -> None:
    await aclient.authenticate_contact(seed.public_key, username=seed.email, password=seed.password)
    with pytest.raises(NotFoundError, match="Contact c-missing not found"):
        [o async for o in aclient.orders.list_for_contact("c-missing")]


def test_a_draft_estimated_afresh_keeps_its_stage_ids_but_not_its_keys(client: CrmComClient, make_draft: Any) -> None:
    # key.id is "{estimation_id}:{stage_id}" and the container is the estimation: only the stage survives a new
    # estimation, which is what MilestoneKey.stable_id (the sync's identity) keeps.
    first, second = (client.milestones.open_draft(make_draft()) for _ in range(2))
    assert first != second
    a, b = list(client.milestones.list(first)), list(client.milestones.list(second))
    assert [m.key.id for m in a if m.key] == [f"{first}:{m.trigger.ref}" for m in a]
    assert [m.trigger.ref for m in a] == [m.trigger.ref for m in b]
    assert [m.key.stable_id for m in a if m.key] == [m.key.stable_id for m in b if m.key]
    assert {m.key.id for m in a if m.key}.isdisjoint(m.key.id for m in b if m.key)
