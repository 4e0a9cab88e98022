"""The common view ``client.milestones`` on Kantata, sync and async, against the sandbox."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
import pytest

from billing_milestones import errors
from billing_milestones._view import AsyncMilestoneView, MilestoneView
from billing_milestones.kantata import AsyncKantataClient, KantataClient, MilestoneInvoicedError
from billing_milestones.model import (
    ChangeKind,
    Milestone,
    MilestoneKey,
    MilestoneStatus,
    Platform,
    Trigger,
    TriggerKind,
)
from billing_milestones.money import Money
from billing_milestones.sandbox.kantata import KantataSandbox

TODAY = dt.date(2026, 3, 1)


class Recorder:
    """Keeps every request the client sends (method, path, JSON body)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []

    def __call__(self, request: httpx.Request) -> None:
        body = json.loads(request.content) if request.content else None
        self.sent.append((request.method, request.url.path, body))

    async def hook(self, request: httpx.Request) -> None:
        self(request)

    def bodies(self, method: str) -> list[Any]:
        return [b for m, _, b in self.sent if m == method]


@pytest.fixture
def sandbox() -> KantataSandbox:
    return KantataSandbox()


@pytest.fixture
def ids(sandbox: KantataSandbox) -> dict[str, Any]:
    return sandbox.seed_demo()


def make_client(sandbox: KantataSandbox, recorder: Recorder | None = None) -> KantataClient:
    hooks = {"request": [recorder]} if recorder else {}
    client = KantataClient("tok", http_client=sandbox.http_client(event_hooks=hooks))
    client.milestones.today = lambda: TODAY
    return client


def new(title: str, amount: str, currency: str = "USD", **extra: Any) -> Milestone:
    return Milestone(title=title, amount=Money(amount, currency), **extra)


def test_view_implements_the_protocol(sandbox: KantataSandbox) -> None:
    assert isinstance(make_client(sandbox).milestones, MilestoneView)
    assert isinstance(AsyncKantataClient("tok").milestones, AsyncMilestoneView)


def test_list_translates_statuses_triggers_and_amounts(sandbox: KantataSandbox, ids: dict[str, Any]) -> None:
    client = make_client(sandbox)
    usd = {m.title: m for m in client.milestones.list(ids["workspaces"]["USD"])}
    assert usd["Deposit"].status is MilestoneStatus.BILLED and usd["Deposit"].locked
    assert usd["Design approved"].status is MilestoneStatus.READY_TO_BILL  # its story is completed
    assert usd["Design approved"].trigger == Trigger.on_completion(ids["stories"]["design"])
    assert usd["Build complete"].status is MilestoneStatus.PLANNED
    assert usd["Goodwill credit"].amount == Money("-100.00", "USD")
    kwd = {m.title: m for m in client.milestones.list(ids["workspaces"]["KWD"])}
    assert kwd["Licences"].amount == Money("12345.678", "KWD")
    assert kwd["Licences"].status is MilestoneStatus.READY_TO_BILL  # 2026-02-15 has passed
    jpy = {m.title: m for m in client.milestones.list(ids["workspaces"]["JPY"])}
    assert jpy["Kick-off"].amount == Money("1500000", "JPY")
    assert all(m.key is not None and m.key.container_id == ids["workspaces"]["JPY"] for m in jpy.values())


def test_each_listing_side_loads_the_workspace_creates_and_updates_use_the_cache(
    sandbox: KantataSandbox, ids: dict[str, Any]
) -> None:
    includes: list[str] = []
    http = sandbox.http_client(event_hooks={"request": [lambda r: includes.append(r.url.params.get("include", ""))]})
    client = KantataClient("tok", http_client=http)
    ws = ids["workspaces"]["USD"]
    list(client.milestones.list(ws))
    listed = [m for m in client.milestones.list(ws) if not m.locked]
    # The listings asked for the workspace with the milestones (include=workspace): no workspace GET.
    assert sandbox.count_requests("GET", r"^/workspaces/") == 0
    assert includes and all("workspace" in include.split(",") for include in includes)
    created = [client.milestones.create(ws, [new(f"Extra {i}", "1.00")])[0] for i in range(3)]
    client.milestones.update(created[0].model_copy(update={"title": "Extra, renamed"}))
    client.milestones.update(listed[0].model_copy(update={"title": "renamed too"}))
    assert sandbox.count_requests("GET", r"^/workspaces/") == 0
    # A fresh client has seen nothing: its first create reads the workspace once.
    make_client(sandbox).milestones.create(ws, [new("Extra 4", "1.00")])
    assert sandbox.count_requests("GET", r"^/workspaces/") == 1


def test_an_empty_listing_reads_the_workspace_once_and_creates_trust_that_read(sandbox: KantataSandbox) -> None:
    ws = sandbox.add_workspace(currency="USD")
    client = make_client(sandbox)
    assert list(client.milestones.list(ws)) == []
    assert sandbox.count_requests("GET", r"^/workspaces/") == 1
    client.milestones.create(ws, [new("First", "1.00")])
    assert sandbox.count_requests("GET", r"^/workspaces/") == 1


def test_the_side_loaded_workspace_refreshes_the_cached_currency(sandbox: KantataSandbox) -> None:
    """What a listing side-loads is the workspace now: a cached currency is replaced by it, and a milestone in
    another currency than its workspace is refused, never read with a stale subunit."""
    ws = sandbox.add_workspace(currency="USD")
    client = make_client(sandbox)
    client.milestones.create(ws, [new("First", "1.00")])
    with sandbox.lock:
        sandbox.workspaces[ws]["currency"] = "EUR"
    with pytest.raises(errors.TranslationError, match=r"workspace .* is in EUR"):
        list(client.milestones.list(ws))
    with pytest.raises(errors.TranslationError):  # a USD amount into what is now an EUR workspace: refused unsent
        client.milestones.create(ws, [new("Second", "1.00")])
    assert sandbox.count_requests("POST", r"^/billing_milestones") == 1
    assert sandbox.count_requests("GET", r"^/workspaces/") == 1  # the first create's read; the listing side-loaded


def test_a_page_without_the_side_loaded_workspace_reads_it(sandbox: KantataSandbox, ids: dict[str, Any]) -> None:
    """A server that ignores include=workspace costs one workspace GET, as before, not a failure."""
    ws = ids["workspaces"]["USD"]

    def strip(response: httpx.Response) -> None:
        if response.request.url.path.endswith("/billing_milestones") and response.request.method == "GET":
            response.read()
            body = json.loads(response.content)
            body.pop("workspaces", None)
            response._content = json.dumps(body).encode()

    client = KantataClient("tok", http_client=sandbox.http_client(event_hooks={"response": [strip]}))
    assert len(list(client.milestones.list(ws))) == len(list(make_client(sandbox).milestones.list(ws))) > 0
    assert sandbox.count_requests("GET", r"^/workspaces/") == 1
    for i in range(450):  # three pages of 200: still one workspace GET for the listing, not one a page
        sandbox.add_milestone(ws, title=f"More {i}", amount_in_cents=100)
    assert len(list(client.with_options(max_retries=0).milestones.list(ws))) > 400
    assert sandbox.count_requests("GET", r"^/workspaces/") == 2


def _gone(sandbox: KantataSandbox, workspace_id: str) -> None:
    with sandbox.lock:
        del sandbox.workspaces[workspace_id]


def test_a_missing_workspace_is_not_found_by_name_even_when_its_currency_is_cached(
    sandbox: KantataSandbox, ids: dict[str, Any]
) -> None:
    recorder = Recorder()
    client = make_client(sandbox, recorder)
    with pytest.raises(errors.NotFoundError, match="workspace 999 does not exist") as info:
        list(client.milestones.list("999"))
    assert info.value.status_code == 404
    # the listing (empty), then the workspace it proved nothing about
    assert [path for _, path, _ in recorder.sent] == ["/api/v1/billing_milestones", "/api/v1/workspaces/999"]
    ws = ids["workspaces"]["USD"]
    list(client.milestones.list(ws))  # the currency is cached now
    _gone(sandbox, ws)
    with pytest.raises(errors.NotFoundError, match=f"workspace {ws} does not exist"):
        list(client.milestones.list(ws))


def test_create_into_a_missing_workspace_writes_nothing(sandbox: KantataSandbox, ids: dict[str, Any]) -> None:
    recorder = Recorder()
    client = make_client(sandbox, recorder)
    ws = ids["workspaces"]["USD"]
    list(client.milestones.list(ws))
    _gone(sandbox, ws)
    before = len(sandbox.milestones)
    # Never seen by this client: read first, refused by name, nothing sent.
    with pytest.raises(errors.NotFoundError, match="workspace 999 does not exist"):
        client.milestones.create("999", [new("Extra", "1.00")])
    assert recorder.bodies("POST") == []
    # Seen (its currency cached, so batches send no workspace GET) and deleted since: Kantata refuses the POST.
    gets = sandbox.count_requests("GET", r"^/workspaces/")
    with pytest.raises(errors.UnprocessableEntityError) as refused:
        client.milestones.create(ws, [new("Extra", "1.00")])
    assert "workspace_id" in str(refused.value)
    assert sandbox.count_requests("GET", r"^/workspaces/") == gets
    assert len(sandbox.milestones) == before
    # A listing that finds it gone forgets the cached currency: the next create is refused unsent again.
    with pytest.raises(errors.NotFoundError):
        list(client.milestones.list(ws))
    posts = len(recorder.bodies("POST"))
    with pytest.raises(errors.NotFoundError, match=f"workspace {ws} does not exist"):
        client.milestones.create(ws, [new("Extra", "1.00")])
    assert len(recorder.bodies("POST")) == posts and len(sandbox.milestones) == before


async def test_async_missing_workspace_on_list_and_create(sandbox: KantataSandbox, ids: dict[str, Any]) -> None:
    recorder = Recorder()
    http = sandbox.async_http_client(event_hooks={"request": [recorder.hook]})
    async with AsyncKantataClient("tok", http_client=http) as client:
        with pytest.raises(errors.NotFoundError, match="workspace 999 does not exist"):
            [m async for m in client.milestones.list("999")]
        ws = ids["workspaces"]["JPY"]
        assert [m async for m in client.milestones.list(ws)]
        _gone(sandbox, ws)
        with pytest.raises(errors.NotFoundError, match=f"workspace {ws} does not exist"):
            [m async for m in client.milestones.list(ws)]
        with pytest.raises(errors.NotFoundError, match=f"workspace {ws} does not exist"):
            await client.milestones.create(ws, [new("j", "1000", "JPY")])
    assert recorder.bodies("POST") == []


def test_create_batches_by_100_and_returns_sync_keys(sandbox: KantataSandbox) -> None:
    ws = sandbox.add_workspace(currency="KWD")
    story = sandbox.add_story(ws)
    wanted = [new(f"m{i}", f"{i}.125", "KWD").with_sync_key(f"key-{i}") for i in range(250)]
    wanted[7] = wanted[7].model_copy(update={"trigger": Trigger.on_completion(story)})
    created = make_client(sandbox).milestones.create(ws, wanted)
    assert sandbox.count_requests("POST") == 3
    assert [m.title for m in created] == [m.title for m in wanted]
    assert [m.sync_key for m in created] == [f"key-{i}" for i in range(250)]
    assert created[3].amount == Money("3.125", "KWD")
    assert sandbox.milestone(created[3].key.id)["amount_in_cents"] == 3125  # type: ignore[union-attr]
    assert created[7].trigger == Trigger.on_completion(story)
    assert make_client(sandbox).milestones.create(ws, []) == []


def test_create_refuses_untranslatable_milestones_before_sending(sandbox: KantataSandbox) -> None:
    ws = sandbox.add_workspace(currency="USD")
    client = make_client(sandbox)
    cases = {
        "amount": Milestone(title="30%", percentage="30"),
        "description": new("x", "1", description="notes"),
        "amount.currency": new("x", "1", "EUR"),
        "trigger": new("x", "1", trigger=Trigger.on_stage("s1")),
    }
    for field, milestone in cases.items():
        with pytest.raises(errors.TranslationError) as info:
            client.milestones.create(ws, [new("ok", "1"), milestone])
        assert info.value.field == field
    assert sandbox.count_requests("POST") == 0


def test_create_with_allow_drop_records_the_dropped_description(sandbox: KantataSandbox) -> None:
    ws = sandbox.add_workspace(currency="USD")
    [created] = make_client(sandbox).milestones.create(ws, [new("x", "1", description="notes")], allow_drop=True)
    assert created.description is None
    assert [(c.field, c.kind, c.before) for c in created.changes] == [("description", ChangeKind.DROPPED, "notes")]


def test_update_sends_only_changed_fields_diffed_against_raw(sandbox: KantataSandbox, ids: dict[str, Any]) -> None:
    recorder = Recorder()
    client = make_client(sandbox, recorder)
    build = next(m for m in client.milestones.list(ids["workspaces"]["USD"]) if m.title == "Build complete")
    recorder.sent.clear()
    updated = client.milestones.update(build.model_copy(update={"amount": Money("20001.50", "USD")}))
    assert [m for m, _, _ in recorder.sent] == ["PUT"]
    assert recorder.bodies("PUT") == [{"billing_milestone": {"amount_in_cents": 2000150}}]
    assert updated.amount == Money("20001.50", "USD")
    assert sandbox.milestone(build.key.id)["amount_in_cents"] == 2000150  # type: ignore[union-attr]


def test_update_without_raw_fetches_first(sandbox: KantataSandbox, ids: dict[str, Any]) -> None:
    recorder = Recorder()
    client = make_client(sandbox, recorder)
    ws = ids["workspaces"]["JPY"]
    key = MilestoneKey(platform=Platform.KANTATA, id=ids["milestones"]["jpy_kickoff"], container_id=ws)
    bare = Milestone(key=key, title="Kick-off (moved)", amount=Money("1500000", "JPY"), due=dt.date(2026, 3, 15))
    updated = client.milestones.update(bare)
    methods = [m for m, p, _ in recorder.sent if "billing_milestones" in p]
    assert methods == ["GET", "PUT"]
    assert recorder.bodies("PUT") == [
        {"billing_milestone": {"title": "Kick-off (moved)", "date_to_invoice": "2026-03-15"}}
    ]
    assert updated.title == "Kick-off (moved)" and updated.due == dt.date(2026, 3, 15)


def test_update_with_no_changes_sends_nothing(sandbox: KantataSandbox, ids: dict[str, Any]) -> None:
    recorder = Recorder()
    client = make_client(sandbox, recorder)
    [first, *_] = client.milestones.list(ids["workspaces"]["KWD"])
    recorder.sent.clear()
    assert client.milestones.update(first).business_fields() == first.business_fields()
    assert recorder.sent == []


def test_update_adds_a_new_sync_key(sandbox: KantataSandbox, ids: dict[str, Any]) -> None:
    client = make_client(sandbox)
    [first, *_] = client.milestones.list(ids["workspaces"]["KWD"])
    updated = client.milestones.update(first.with_sync_key("sync-1"))
    assert updated.sync_key == "sync-1"
    again = client.milestones.update(updated)
    assert again.sync_key == "sync-1"
    refs = [r for r in sandbox.external_references.values() if str(r["subject_id"]) == first.key.id]  # type: ignore[union-attr]
    assert len(refs) == 1


def test_invoiced_milestone_update_and_delete_are_refused(sandbox: KantataSandbox, ids: dict[str, Any]) -> None:
    client = make_client(sandbox)
    deposit = next(m for m in client.milestones.list(ids["workspaces"]["USD"]) if m.title == "Deposit")
    before = len(sandbox.request_log)
    with pytest.raises(MilestoneInvoicedError):
        client.milestones.update(deposit.model_copy(update={"title": "changed"}))
    assert len(sandbox.request_log) == before  # refused client-side
    with pytest.raises(MilestoneInvoicedError) as info:
        client.milestones.delete(deposit.key)  # type: ignore[arg-type]
    assert info.value.status_code == 422  # the server's refusal
    assert ids["milestones"]["usd_deposit"] in sandbox.milestones


def test_delete(sandbox: KantataSandbox, ids: dict[str, Any]) -> None:
    client = make_client(sandbox)
    mid = ids["milestones"]["usd_credit"]
    client.milestones.delete(MilestoneKey(platform=Platform.KANTATA, id=mid, container_id=ids["workspaces"]["USD"]))
    assert mid not in sandbox.milestones
    with pytest.raises(errors.ValidationError):
        client.milestones.delete(MilestoneKey(platform=Platform.AUTOTASK, id="1", container_id="2"))


async def test_async_view_round_trip(sandbox: KantataSandbox, ids: dict[str, Any]) -> None:
    recorder = Recorder()
    http = sandbox.async_http_client(event_hooks={"request": [recorder.hook]})
    async with AsyncKantataClient("tok", http_client=http) as client:
        client.milestones.today = lambda: TODAY
        ws = ids["workspaces"]["JPY"]
        listed = [m async for m in client.milestones.list(ws)]
        assert {m.title for m in listed} == {"Kick-off", "Localisation done"}
        created = await client.milestones.create(ws, [new(f"j{i}", str(i * 1000), "JPY") for i in range(120)])
        assert len(created) == 120 and recorder.bodies("POST")[0]["billing_milestones"][1]["amount_in_cents"] == 1000
        target = created[5]
        changed = await client.milestones.update(target.model_copy(update={"title": "renamed"}))
        assert changed.title == "renamed" and recorder.bodies("PUT") == [{"billing_milestone": {"title": "renamed"}}]
        await client.milestones.delete(changed.key)  # type: ignore[arg-type]
        assert changed.key.id not in sandbox.milestones  # type: ignore[union-attr]
        localise = next(m for m in listed if m.title == "Localisation done")
        assert localise.trigger.kind is TriggerKind.ON_COMPLETION and localise.status is MilestoneStatus.PLANNED
        sandbox.complete_story(ids["stories"]["localise"])
        relisted = {m.title: m async for m in client.milestones.list(ws)}
        assert relisted["Localisation done"].status is MilestoneStatus.READY_TO_BILL
        # each list side-loaded the workspace; the create and the update used the cached currency
        assert sandbox.count_requests("GET", r"^/workspaces/") == 0
