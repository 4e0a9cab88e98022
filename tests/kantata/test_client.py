"""KantataClient / AsyncKantataClient against documented payloads (respx) and against the sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from billing_milestones import errors
from billing_milestones._http import RetryPolicy
from billing_milestones.kantata import (
    AsyncKantataClient,
    BillingMilestone,
    BillingMilestoneCreate,
    KantataClient,
    MilestoneInvoicedError,
)

BASE = "https://api.mavenlink.com/api/v1"
FAST = RetryPolicy(initial_delay=0.01, max_delay=0.02)


def ms(ident: str, title: str = "M", cents: int = 100, workspace: str = "10", **extra: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "title": title,
        "amount_in_cents": cents,
        "currency": "USD",
        "billing_type": "fixed_date",
        "date_to_invoice": "2026-05-01",
        "story_id": None,
        "workspace_id": workspace,
        "invoice_id": None,
        "external_reference_ids": [],
        "created_at": "2026-01-01T10:00:00-07:00",
        "updated_at": "2026-01-01T10:00:00-07:00",
        **extra,
    }


def envelope(
    items: list[dict[str, Any]], *, page: int = 1, page_count: int = 1, total: int | None = None, **maps: Any
) -> dict[str, Any]:
    total = len(items) if total is None else total
    size = 200 if page_count < 2 else -(-total // page_count)  # the page size that gives page_count pages
    return {
        "count": total,
        "meta": {"count": total, "page_count": page_count, "page_number": page, "page_size": size},
        "results": [{"key": "billing_milestones", "id": i["id"]} for i in items],
        "billing_milestones": {i["id"]: i for i in items},
        **maps,
    }


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield mock


@pytest.fixture
def client() -> Iterator[KantataClient]:
    with KantataClient("secret-token", retry_policy=FAST) as c:
        yield c


# -- documented payload shapes (respx) -------------------------------------------------------------------
def test_bearer_token_is_sent_and_never_shown(api: respx.MockRouter, client: KantataClient) -> None:
    route = api.get("/billing_milestones/1").respond(200, json=envelope([ms("1")]))
    client.billing_milestones.get("1")
    assert route.calls.last.request.headers["Authorization"] == "Bearer secret-token"
    assert "secret-token" not in repr(client)
    assert KantataClient(SecretStr("other-token")).base_url == httpx.URL(BASE)


def test_list_walks_pages_until_page_count(api: respx.MockRouter, client: KantataClient) -> None:
    pages = [
        envelope([ms("3"), ms("2")], page=1, page_count=2, total=3),
        envelope([ms("1")], page=2, page_count=2, total=3),
    ]
    route = api.get("/billing_milestones").mock(side_effect=[httpx.Response(200, json=p) for p in pages])
    got = [m.id for m in client.billing_milestones.list(workspace_ids=["10", 11], include=["external_references"])]
    assert got == ["3", "2", "1"]
    assert route.call_count == 2
    first, second = (c.request.url.params for c in route.calls)
    assert first["workspace_ids"] == "10,11"
    assert first["per_page"] == "200" and first["page"] == "1"
    assert first["include"] == "external_references"
    assert second["page"] == "2"


def test_list_filters_are_encoded(api: respx.MockRouter, client: KantataClient) -> None:
    import datetime as dt

    route = api.get("/billing_milestones").respond(200, json=envelope([]))
    list(
        client.billing_milestones.list(
            date_between=(dt.date(2026, 1, 1), dt.date(2026, 1, 31)),
            has_external_references=False,
            external_reference_service_model_refs=["a", "b"],
            without_external_reference_service_name="billing-milestones",
            order="created_at:asc",
            per_page=50,
        )
    )
    params = route.calls.last.request.url.params
    assert params["date_between"] == "2026-01-01:2026-01-31"
    assert params["has_external_references"] == "false"
    assert params["external_reference_service_model_refs"] == "a,b"
    assert params["without_external_reference_service_name"] == "billing-milestones"
    assert params["order"] == "created_at:asc"
    assert params["per_page"] == "50"


def test_list_pages_exposes_totals(api: respx.MockRouter, client: KantataClient) -> None:
    api.get("/billing_milestones").respond(200, json=envelope([ms("1")], total=1))
    pages = list(client.billing_milestones.list_pages())
    assert len(pages) == 1 and pages[0].total == 1 and pages[0].items[0].id == "1"


def test_bad_per_page_and_unknown_filter_are_refused_before_sending(client: KantataClient) -> None:
    with pytest.raises(errors.ValidationError):
        list(client.billing_milestones.list(per_page=201))
    with pytest.raises(errors.ValidationError):
        list(client.billing_milestones.list(workspace_id="1"))  # type: ignore[call-arg]


def test_get_with_include_resolves_side_loads(api: respx.MockRouter, client: KantataClient) -> None:
    body = envelope(
        [ms("1", story_id="5", external_reference_ids=["7"])],
        external_references={
            "7": {"id": "7", "service_name": "billing-milestones", "service_model": "x", "service_model_ref": "k"}
        },
        stories={"5": {"id": "5", "title": "Build", "state": "completed"}},
        workspaces={"10": {"id": "10", "currency": "USD", "currency_base_unit": 100}},
    )
    api.get("/billing_milestones/1").respond(200, json=body)
    m = client.billing_milestones.get("1", include=["external_references", "story", "workspace"])
    assert [r.service_model_ref for r in m.external_references] == ["k"]
    assert m.story is not None and m.story.completed
    assert m.workspace is not None and m.workspace.currency_base_unit == 100


def test_create_posts_the_singular_body(api: respx.MockRouter, client: KantataClient) -> None:
    route = api.post("/billing_milestones").respond(200, json=envelope([ms("5", title="Deposit", cents=-100)]))
    created = client.billing_milestones.create(workspace_id="10", title="Deposit", amount_in_cents=-100)
    assert created.id == "5"
    assert json.loads(route.calls.last.request.content) == {
        "billing_milestone": {"workspace_id": 10, "title": "Deposit", "amount_in_cents": -100}
    }


def test_create_many_chunks_by_100_and_ties_results_back(api: respx.MockRouter, client: KantataClient) -> None:
    counter = iter(range(1, 10_000))

    def reply(request: httpx.Request) -> httpx.Response:
        items = json.loads(request.content)["billing_milestones"]
        created = [ms(str(next(counter)), title=i["title"], cents=i["amount_in_cents"]) for i in items]
        return httpx.Response(200, json=envelope(list(reversed(created))))  # out of order on purpose

    route = api.post("/billing_milestones").mock(side_effect=reply)
    inputs = [{"workspace_id": "10", "title": f"m{i}", "amount_in_cents": i} for i in range(250)]
    created = client.billing_milestones.create_many(inputs)
    assert route.call_count == 3
    sizes = [len(json.loads(c.request.content)["billing_milestones"]) for c in route.calls]
    assert sizes == [100, 100, 50]
    assert [c.title for c in created] == [f"m{i}" for i in range(250)]


def test_create_many_refuses_a_response_it_cannot_tie_back(api: respx.MockRouter, client: KantataClient) -> None:
    api.post("/billing_milestones").respond(200, json=envelope([ms("1", title="something else")]))
    with pytest.raises(errors.APIResponseValidationError):
        client.billing_milestones.create_many([{"workspace_id": "10", "title": "mine", "amount_in_cents": 1}])


def test_update_sends_only_the_given_fields(api: respx.MockRouter, client: KantataClient) -> None:
    route = api.put("/billing_milestones/5").respond(200, json=envelope([ms("5", title="New")]))
    client.billing_milestones.update("5", title="New", date_to_invoice=None)
    assert json.loads(route.calls.last.request.content) == {
        "billing_milestone": {"title": "New", "date_to_invoice": None}
    }


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"title": " \t"}, "title"),
        ({"amount_in_cents": 10**40}, "amount_in_cents"),
        ({"amount_in_cents": True}, "amount_in_cents"),
        ({"date_to_invoice": 86400}, "date_to_invoice"),
        ({"date_to_invoice": "15/01/2027"}, "date_to_invoice"),
        ({"story_id": "../7"}, "story_id"),
        ({"story_id": False}, "story_id"),
    ],
)
def test_bad_update_and_bulk_create_fields_are_refused_unsent(
    api: respx.MockRouter, client: KantataClient, fields: dict[str, Any], named: str
) -> None:
    """The request bodies check their fields (issue 12): a blank title, an int date or a path as a story id
    is refused by name before any request, for update and for every item of a bulk create alike."""
    put = api.put("/billing_milestones/5").respond(200, json=envelope([ms("5")]))
    post = api.post("/billing_milestones").respond(200, json=envelope([ms("5")]))
    with pytest.raises(errors.ValidationError) as bad:
        client.billing_milestones.update("5", **fields)
    assert bad.value.field == named
    item = {"workspace_id": "10", "title": "ok", "amount_in_cents": 1, **fields}
    with pytest.raises(errors.ValidationError) as bad:
        client.billing_milestones.create_many([{"workspace_id": "10", "title": "fine", "amount_in_cents": 1}, item])
    assert bad.value.field == named
    assert put.call_count == 0 and post.call_count == 0


def test_negative_amounts_and_digit_ids_still_go_out() -> None:
    """Credits (negative cents) and ids as digits are valid: the checks refuse only what names nothing."""
    body = BillingMilestoneCreate(workspace_id="10", title="Credit", amount_in_cents=-100, story_id=7)
    assert body.to_wire() == {"workspace_id": 10, "title": "Credit", "amount_in_cents": -100, "story_id": 7}


def test_update_and_delete_of_a_known_invoiced_milestone_are_refused_unsent(
    api: respx.MockRouter, client: KantataClient
) -> None:
    put = api.put("/billing_milestones/5").respond(200, json=envelope([ms("5")]))
    delete = api.delete("/billing_milestones/5").respond(204)
    invoiced = BillingMilestone.model_validate(ms("5", invoice_id="300"))
    with pytest.raises(MilestoneInvoicedError) as info:
        client.billing_milestones.update(invoiced, title="x")
    assert info.value.field == "invoice_id" and "invoice 300" in str(info.value)
    with pytest.raises(MilestoneInvoicedError):
        client.billing_milestones.delete(invoiced)
    assert put.call_count == 0 and delete.call_count == 0


def test_delete_answers_none_on_204(api: respx.MockRouter, client: KantataClient) -> None:
    route = api.delete("/billing_milestones/5").respond(204)
    client.billing_milestones.delete("5")
    assert route.call_count == 1


def test_json_suffix_option(api: respx.MockRouter) -> None:
    route = api.get("/billing_milestones/5.json").respond(200, json=envelope([ms("5")]))
    with KantataClient("t0ken", json_suffix=True) as c:
        assert c.billing_milestones.get("5").id == "5"
    assert route.call_count == 1


def test_workspaces_and_stories(api: respx.MockRouter, client: KantataClient) -> None:
    api.get("/workspaces/10").respond(
        200,
        json={
            "count": 1,
            "results": [{"key": "workspaces", "id": "10"}],
            "workspaces": {"10": {"id": "10", "currency": "JPY", "currency_base_unit": 1}},
        },
    )
    stories = api.get("/stories").respond(
        200,
        json={
            "count": 1,
            "meta": {"count": 1, "page_count": 1, "page_number": 1, "page_size": 200},
            "results": [{"key": "stories", "id": "5"}],
            "stories": {"5": {"id": "5", "state": "completed", "workspace_id": "10"}},
        },
    )
    assert client.workspaces.get("10").currency_base_unit == 1
    assert [s.id for s in client.stories.list(workspace_id="10")] == ["5"]
    assert stories.calls.last.request.url.params["workspace_id"] == "10"


@pytest.mark.parametrize(
    ("status", "body", "cls", "field"),
    [
        (401, {"errors": [{"type": "oauth", "message": "Invalid OAuth 2 Request"}]}, errors.AuthenticationError, None),
        (
            422,
            {"errors": [{"type": "validation", "message": "Title can't be blank", "field": "title"}]},
            errors.UnprocessableEntityError,
            "title",
        ),
        (403, {"error_message": ["Forbidden"]}, errors.PermissionDeniedError, None),
        (404, {"errors": [{"type": "system", "message": "not found"}]}, errors.NotFoundError, None),
    ],
)
def test_error_bodies_map_to_classes(
    api: respx.MockRouter,
    client: KantataClient,
    status: int,
    body: dict[str, Any],
    cls: type[errors.APIStatusError],
    field: str | None,
) -> None:
    api.get("/billing_milestones/1").respond(status, json=body)
    with pytest.raises(cls) as info:
        client.billing_milestones.get("1")
    assert info.value.platform == "kantata" and info.value.status_code == status
    assert info.value.messages
    if field is not None:
        assert isinstance(info.value, errors.UnprocessableEntityError) and info.value.field == field


def test_server_invoiced_lock_maps_to_milestone_invoiced_error(api: respx.MockRouter, client: KantataClient) -> None:
    api.put("/billing_milestones/5").respond(
        422,
        json={"errors": [{"type": "validation", "message": "has been invoiced", "field": "invoice_id"}]},
    )
    with pytest.raises(MilestoneInvoicedError) as info:
        client.billing_milestones.update("5", title="x")
    assert info.value.status_code == 422


def test_429_without_retry_after_is_retried_with_backoff(api: respx.MockRouter, client: KantataClient) -> None:
    route = api.get("/billing_milestones/1").mock(
        side_effect=[
            httpx.Response(429, json={"errors": [{"type": "system", "message": "slow"}]}),
            httpx.Response(200, json=envelope([ms("1")])),
        ]
    )
    assert client.billing_milestones.get("1").id == "1"
    assert route.call_count == 2


# -- async twin (respx) ----------------------------------------------------------------------------------
async def test_async_list_create_update_delete(api: respx.MockRouter) -> None:
    api.get("/billing_milestones").mock(
        side_effect=[
            httpx.Response(200, json=envelope([ms("2")], page=1, page_count=2, total=2)),
            httpx.Response(200, json=envelope([ms("1")], page=2, page_count=2, total=2)),
        ]
    )

    def reply(request: httpx.Request) -> httpx.Response:
        items = json.loads(request.content)["billing_milestones"]
        created = [ms(str(i), title=x["title"], cents=x["amount_in_cents"]) for i, x in enumerate(items)]
        return httpx.Response(200, json=envelope(created))

    post = api.post("/billing_milestones").mock(side_effect=reply)
    api.put("/billing_milestones/1").respond(200, json=envelope([ms("1", title="u")]))
    api.delete("/billing_milestones/1").respond(204)
    async with AsyncKantataClient("async-token", retry_policy=FAST) as c:
        assert [m.id async for m in c.billing_milestones.list(workspace_ids="10")] == ["2", "1"]
        created = await c.billing_milestones.create_many(
            [{"workspace_id": 10, "title": f"t{i}", "amount_in_cents": 1} for i in range(150)]
        )
        assert post.call_count == 2 and [m.title for m in created] == [f"t{i}" for i in range(150)]
        assert (await c.billing_milestones.update("1", title="u")).title == "u"
        await c.billing_milestones.delete("1")
        with pytest.raises(MilestoneInvoicedError):
            await c.billing_milestones.delete(BillingMilestone.model_validate(ms("1", invoice_id="9")))


async def test_async_errors_map_to_classes(api: respx.MockRouter) -> None:
    api.post("/billing_milestones").respond(
        422, json={"errors": [{"type": "validation", "message": "is not a number", "field": "amount_in_cents"}]}
    )
    async with AsyncKantataClient("async-token") as c:
        with pytest.raises(errors.UnprocessableEntityError) as info:
            await c.billing_milestones.create(workspace_id="1", title="x", amount_in_cents=1)
    assert info.value.field == "amount_in_cents"


def test_tie_back_matches_reordered_duplicates_and_normalised_titles() -> None:
    from billing_milestones.kantata import BillingMilestoneCreate
    from billing_milestones.kantata._operations import tie_back

    inputs = [
        BillingMilestoneCreate(title=" a ", amount_in_cents=1, workspace_id="10"),
        BillingMilestoneCreate(title="b", amount_in_cents=2, workspace_id="10"),
        BillingMilestoneCreate(title="b", amount_in_cents=2, workspace_id="10"),
    ]
    created = [
        BillingMilestone.model_validate(ms("3", title="b", cents=2)),
        BillingMilestone.model_validate(ms("1", title="a", cents=1)),
        BillingMilestone.model_validate(ms("2", title="b", cents=2)),
    ]
    assert [m.id for m in tie_back(inputs, created)] == ["1", "3", "2"]
    with pytest.raises(errors.ValidationError):
        tie_back(inputs[:2], created[:1])


def test_tie_back_tells_same_title_and_amount_apart_by_date_and_story() -> None:
    """Monthly instalments share title and amount: a reordered bulk response must still pair each by its date."""
    import datetime as dt

    from billing_milestones.kantata import BillingMilestoneCreate
    from billing_milestones.kantata._operations import tie_back

    inputs = [
        BillingMilestoneCreate(
            title="Fee", amount_in_cents=100, workspace_id="10", date_to_invoice=dt.date(2026, 1, 1)
        ),
        BillingMilestoneCreate(
            title="Fee", amount_in_cents=100, workspace_id="10", date_to_invoice=dt.date(2026, 2, 1)
        ),
        BillingMilestoneCreate(
            title="Fee", amount_in_cents=100, workspace_id="10", billing_type="upon_completion", story_id="7"
        ),
    ]
    created = [
        BillingMilestone.model_validate(
            ms("3", title="Fee", date_to_invoice=None, billing_type="upon_completion", story_id="7")
        ),
        BillingMilestone.model_validate(ms("2", title="Fee", date_to_invoice="2026-02-01")),
        BillingMilestone.model_validate(ms("1", title="Fee", date_to_invoice="2026-01-01")),
    ]
    assert [m.id for m in tie_back(inputs, created)] == ["1", "2", "3"]
