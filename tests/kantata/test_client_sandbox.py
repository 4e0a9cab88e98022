"""KantataClient / AsyncKantataClient against the in-process and the loopback sandbox."""

from __future__ import annotations

import pytest

from billing_milestones import errors
from billing_milestones._http import RetryPolicy
from billing_milestones.kantata import (
    AsyncKantataClient,
    KantataClient,
    MilestoneInvoicedError,
)
from billing_milestones.sandbox import LoopbackServer, RateLimit
from billing_milestones.sandbox.kantata import DEMO_TOKEN, KantataSandbox

BASE = "https://api.mavenlink.com/api/v1"
FAST = RetryPolicy(initial_delay=0.01, max_delay=0.02)


# -- against the sandbox ---------------------------------------------------------------------------------
@pytest.fixture
def sandbox() -> KantataSandbox:
    return KantataSandbox()


def test_sandbox_250_creates_take_exactly_3_posts(sandbox: KantataSandbox) -> None:
    ws = sandbox.add_workspace(currency="USD")
    with KantataClient("tok", http_client=sandbox.http_client()) as c:
        created = c.billing_milestones.create_many(
            [{"workspace_id": ws, "title": f"m{i}", "amount_in_cents": i * 10} for i in range(250)]
        )
    assert sandbox.count_requests("POST", r"billing_milestones") == 3
    assert [m.title for m in created] == [f"m{i}" for i in range(250)]
    assert len({m.id for m in created}) == 250
    assert all(sandbox.milestone(m.id)["title"] == m.title for m in created)


def test_sandbox_450_milestones_come_in_exactly_3_pages(sandbox: KantataSandbox) -> None:
    ws = sandbox.add_workspace(currency="USD")
    for i in range(450):
        sandbox.add_milestone(ws, f"m{i}", i)
    with KantataClient("tok", http_client=sandbox.http_client()) as c:
        pages = list(c.billing_milestones.list_pages(workspace_ids=[ws]))
        assert [len(p.items) for p in pages] == [200, 200, 50]
        assert sandbox.count_requests("GET", r"billing_milestones") == 3
        titles = [m.title for m in c.billing_milestones.list(workspace_ids=[ws], order="created_at:asc")]
    assert titles == [f"m{i}" for i in range(450)]


def test_sandbox_include_side_loads(sandbox: KantataSandbox) -> None:
    ws = sandbox.add_workspace(currency="KWD")
    story = sandbox.add_story(ws, "Go-live")
    mid = sandbox.add_milestone(
        ws,
        "On go-live",
        1000,
        billing_type="upon_completion",
        story_id=story,
        external_reference={
            "service_name": "billing-milestones",
            "service_model": "billing_milestone",
            "service_model_ref": "k1",
        },
    )
    invoice = sandbox.invoice(mid)
    with KantataClient("tok", http_client=sandbox.http_client()) as c:
        m = c.billing_milestones.get(mid, include="external_references,story,workspace,invoices")
        plain = c.billing_milestones.get(mid)
    assert [r.service_model_ref for r in m.external_references] == ["k1"]
    assert m.story is not None and m.story.id == story
    assert m.workspace is not None and m.workspace.currency_base_unit == 1000
    assert [i.id for i in m.invoices] == [invoice] and m.invoice_id == invoice
    assert plain.external_reference_ids is None and not plain.external_references_loaded


def test_sandbox_errors_carry_field_names(sandbox: KantataSandbox) -> None:
    ws = sandbox.add_workspace()
    with KantataClient("tok", http_client=sandbox.http_client()) as c:
        with pytest.raises(errors.UnprocessableEntityError) as info:
            c.billing_milestones.create(workspace_id=ws, title="x", amount_in_cents=1, billing_type="upon_completion")
        assert info.value.field == "story_id"
        with pytest.raises(errors.UnprocessableEntityError) as info:
            c.billing_milestones.create(workspace_id="424242", title="x", amount_in_cents=1)
        assert info.value.field == "workspace_id"
        with pytest.raises(errors.NotFoundError):
            c.billing_milestones.get("424242")
    # A blank title is refused before sending (issue 12 point 4); the sandbox's 422 for it is never reached.
    posts = sandbox.count_requests("POST")
    with KantataClient("tok", http_client=sandbox.http_client()) as c, pytest.raises(errors.ValidationError) as bad:
        c.billing_milestones.create(workspace_id=ws, title="  ", amount_in_cents=1)
    assert bad.value.field == "title" and sandbox.count_requests("POST") == posts
    strict = KantataSandbox(tokens={"the-right-token"})
    with (
        KantataClient("a-wrong-token", http_client=strict.http_client()) as c,
        pytest.raises(errors.AuthenticationError) as auth,
    ):
        c.billing_milestones.get("1")
    assert auth.value.status_code == 401 and auth.value.messages == ("oauth: Invalid OAuth 2 Request",)


def test_sandbox_invoiced_lock(sandbox: KantataSandbox) -> None:
    ws = sandbox.add_workspace()
    mid = sandbox.add_milestone(ws, "Deposit", 100)
    sandbox.invoice(mid)
    with KantataClient("tok", http_client=sandbox.http_client()) as c:
        with pytest.raises(MilestoneInvoicedError) as info:
            c.billing_milestones.update(mid, title="changed")
        assert info.value.status_code == 422 and info.value.field == "invoice_id"
        with pytest.raises(MilestoneInvoicedError):
            c.billing_milestones.delete(mid)
        known = c.billing_milestones.get(mid)
        before = len(sandbox.request_log)
        with pytest.raises(MilestoneInvoicedError):
            c.billing_milestones.update(known, title="changed")
        assert len(sandbox.request_log) == before  # refused without a request
    assert sandbox.milestone(mid)["title"] == "Deposit"


def test_sandbox_429_is_retried(sandbox: KantataSandbox) -> None:
    limited = KantataSandbox(rate_limit=RateLimit(requests=2, per_seconds=0.05, send_retry_after=False))
    ws = limited.add_workspace()
    mid = limited.add_milestone(ws, "x", 1)
    with KantataClient(
        "tok", http_client=limited.http_client(), retry_policy=RetryPolicy(initial_delay=0.06, max_delay=0.1)
    ) as c:
        for _ in range(4):
            assert c.billing_milestones.get(mid).id == mid
    statuses = [e.status for e in limited.request_log]
    assert 429 in statuses and statuses.count(200) == 4


def test_sandbox_with_json_suffix(sandbox: KantataSandbox) -> None:
    ws = sandbox.add_workspace()
    with KantataClient("tok", http_client=sandbox.http_client(), json_suffix=True) as c:
        created = c.billing_milestones.create(workspace_id=ws, title="x", amount_in_cents=5)
        assert c.billing_milestones.update(created, amount_in_cents=6).amount_in_cents == 6
        c.billing_milestones.delete(created.id)
    assert sandbox.milestones == {}


def test_sandbox_over_loopback(sandbox: KantataSandbox) -> None:
    ids = sandbox.seed_demo()
    with LoopbackServer(sandbox.asgi_app()) as server, KantataClient(DEMO_TOKEN, base_url=server.url + "/api/v1") as c:
        jpy = ids["workspaces"]["JPY"]
        assert c.workspaces.get(jpy).currency == "JPY"
        created = c.billing_milestones.create(workspace_id=jpy, title="Over the wire", amount_in_cents=1000)
        assert created.id in {m.id for m in c.billing_milestones.list(workspace_ids=[jpy])}


async def test_async_client_against_the_sandbox(sandbox: KantataSandbox) -> None:
    ws = sandbox.add_workspace()
    async with AsyncKantataClient("tok", http_client=sandbox.async_http_client()) as c:
        created = await c.billing_milestones.create_many(
            [{"workspace_id": ws, "title": f"a{i}", "amount_in_cents": i} for i in range(201)]
        )
        assert len(created) == 201 and sandbox.count_requests("POST") == 3
        listed = [m async for m in c.billing_milestones.list(workspace_ids=[ws])]
        assert len(listed) == 201 and sandbox.count_requests("GET") == 2
        with pytest.raises(errors.UnprocessableEntityError) as info:
            await c.billing_milestones.update(created[0].id, billing_type="upon_completion")
        assert info.value.field == "story_id"
