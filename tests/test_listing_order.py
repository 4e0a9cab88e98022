"""``client.milestones.list`` lists in one documented order on every platform (due date, undated last, then
title, then id), blocking and asyncio, on the in-process sandboxes with milestones seeded out of order;
``stream`` keeps the platform's own order, page by page."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_milestones import (
    AsyncAutotaskClient,
    AsyncCrmComClient,
    AsyncKantataClient,
    AutotaskClient,
    CrmComClient,
    KantataClient,
    Milestone,
    MilestoneKey,
    Money,
    OrderDraft,
    Platform,
)
from billing_milestones._order import aordered, listing_key, ordered, sorted_milestones, stream_of
from billing_milestones.sandbox.autotask import AutotaskSandbox
from billing_milestones.sandbox.crmcom import CrmComSandbox
from billing_milestones.sandbox.kantata import KantataSandbox
from billing_milestones.sync import MilestoneRow

D1, D2, D3 = dt.date(2026, 1, 15), dt.date(2026, 3, 1), dt.date(2026, 6, 30)


def m(title: str, due: dt.date | None = None, ident: str | None = None) -> Milestone:
    key = MilestoneKey(platform=Platform.KANTATA, id=ident, container_id="w") if ident else None
    return Milestone(title=title, due=due, key=key, amount=Money("1", "USD"))


def titles(items: Sequence[Milestone | MilestoneRow]) -> list[str]:
    return [f"{x.title}#{x.key.id if x.key else '-'}" for x in items]


# -- the key ------------------------------------------------------------------------------------------
def test_due_date_first_and_undated_last() -> None:
    items = [m("b", None, "1"), m("a", D3, "2"), m("c", D1, "3"), m("a", None, "4"), m("z", D2, "5")]
    assert titles(sorted_milestones(items)) == ["c#3", "z#5", "a#2", "a#4", "b#1"]


def test_then_title_ignoring_case_then_exact_title() -> None:
    items = [m("beta", D1, "1"), m("Alpha", D1, "2"), m("alpha", D1, "3"), m("Beta", D1, "4")]
    assert titles(sorted_milestones(items)) == ["Alpha#2", "alpha#3", "Beta#4", "beta#1"]


def test_then_id_numeric_ids_by_number_before_other_ids() -> None:
    items = [m("x", D1, "10"), m("x", D1, "est:b"), m("x", D1, "9"), m("x", D1, "est:a"), m("x", D1, "100")]
    assert titles(sorted_milestones(items)) == ["x#9", "x#10", "x#100", "x#est:a", "x#est:b"]
    assert titles(sorted_milestones([m("x", D1, "²"), m("x", D1, "1")])) == ["x#1", "x#²"]  # not int("²")


def _by_int(milestone: Milestone) -> tuple[Any, ...]:
    """The id order as it was defined before: digit ids by int(), then by their text."""
    text = milestone.key.id if milestone.key is not None else None
    if text is None:
        return (-1, 0, "")
    return (0, int(text), text) if text.isascii() and text.isdigit() else (1, 0, text)


@given(
    st.lists(
        st.one_of(
            st.integers(0, 10**20).map(str),
            st.from_regex(r"0{0,3}[0-9]{1,6}", fullmatch=True),
            st.text(max_size=4).filter(bool),
        ),
        max_size=12,
    )
)
def test_digit_ids_sort_as_their_numbers_then_their_text(ids: list[str]) -> None:
    items = [m("x", D1, ident) for ident in ids]
    assert [x.key for x in sorted_milestones(items)] == [x.key for x in sorted(items, key=_by_int)]


def test_an_id_longer_than_int_reads_has_its_place() -> None:
    # int() refuses more than 4,300 digits (a bare ValueError): the key never makes an int.
    huge, huger = "9" * 5000, "1" + "0" * 5000
    items = [m("x", D1, huger), m("x", D1, "est:a"), m("x", D1, huge), m("x", D1, "0" + huge), m("x", D1, "12")]
    assert titles(sorted_milestones(items)) == ["x#12", f"x#0{huge}", f"x#{huge}", f"x#{huger}", "x#est:a"]


def test_the_order_does_not_depend_on_the_input_order() -> None:
    items = [m("a", D1, "3"), m("a", D1, "1"), m("b", None, "2"), m("A", D2, "4"), m("a", None, "5")]
    expected = titles(sorted_milestones(items))
    for shift in range(len(items)):
        assert titles(sorted_milestones(items[shift:] + items[:shift])) == expected
        assert titles(sorted_milestones(list(reversed(items[shift:] + items[:shift])))) == expected
    assert listing_key(m("a", None)) > listing_key(m("zz", dt.date.max, "1"))


def test_ordered_reads_nothing_until_iterated() -> None:
    read: list[int] = []

    def source() -> Iterator[Milestone]:
        read.append(1)
        yield m("b", D1, "1")
        yield m("a", D1, "2")

    listing = ordered(source())
    assert read == []
    assert titles(list(listing)) == ["a#2", "b#1"] and read == [1]


async def test_aordered() -> None:
    async def source() -> AsyncIterator[Milestone]:
        for x in (m("b", None, "1"), m("a", D2, "2")):
            yield x

    assert titles([x async for x in aordered(source())]) == ["a#2", "b#1"]


def test_stream_of_uses_the_views_stream_and_falls_back_to_list() -> None:
    class Plain:
        def list(self, container_id: str) -> Iterator[Milestone]:
            return iter([m("listed", D1, "1")])

    class Streaming(Plain):
        def stream(self, container_id: str) -> Iterator[Milestone]:
            return iter([m("streamed", D1, "1")])

    assert [x.title for x in stream_of(Plain(), "c")] == ["listed"]
    assert [x.title for x in stream_of(Streaming(), "c")] == ["streamed"]


# -- Autotask -----------------------------------------------------------------------------------------
def autotask_seed(sandbox: AutotaskSandbox) -> tuple[int, list[str]]:
    cid = sandbox.add_contract()
    served = [("Go-live", D3), ("kick-off", D1), ("Build", D2), ("Acceptance", D2), ("Kick-off", D1)]
    ids = [sandbox.add_milestone(cid, title=t, date_due=d) for t, d in served]
    # Same day: Acceptance, Build; "Kick-off" before "kick-off" (exact title breaks the casefold tie).
    expected = [f"Kick-off#{ids[4]}", f"kick-off#{ids[1]}", f"Acceptance#{ids[3]}", f"Build#{ids[2]}"]
    return cid, [*expected, f"Go-live#{ids[0]}"]


def autotask_client(sandbox: AutotaskSandbox, asynchronous: bool = False) -> Any:
    creds = (sandbox.USERNAME, sandbox.SECRET, sandbox.INTEGRATION_CODE)
    if asynchronous:
        return AsyncAutotaskClient(*creds, http_client=sandbox.async_http_client(), currency="USD")
    return AutotaskClient(*creds, http_client=sandbox.http_client(), currency="USD")


def test_autotask_lists_in_order_and_streams_in_its_own() -> None:
    sandbox = AutotaskSandbox()
    cid, expected = autotask_seed(sandbox)
    with autotask_client(sandbox) as client:
        assert titles(list(client.milestones.list(str(cid)))) == expected
        streamed = titles(list(client.milestones.stream(str(cid))))
    assert streamed != expected and sorted(streamed) == sorted(expected)


async def test_autotask_async_lists_in_order() -> None:
    sandbox = AutotaskSandbox()
    cid, expected = autotask_seed(sandbox)
    async with autotask_client(sandbox, asynchronous=True) as client:
        assert titles([x async for x in client.milestones.list(str(cid))]) == expected
        assert sorted(titles([x async for x in client.milestones.stream(str(cid))])) == sorted(expected)


# -- Kantata ------------------------------------------------------------------------------------------
def kantata_seed(sandbox: KantataSandbox) -> tuple[str, list[str]]:
    ws = sandbox.add_workspace(currency="USD")
    story = sandbox.add_story(ws, "Build")

    def add(title: str, due: dt.date | None) -> str:
        if due is None:
            return sandbox.add_milestone(ws, title, 100, billing_type="upon_completion", story_id=story)
        return sandbox.add_milestone(ws, title, 100, date_to_invoice=due)

    kick, same_a, live, same_b, done, early = (
        add("Kick-off", D2),
        add("Same", D1),
        add("Go-live", D3),
        add("Same", D1),
        add("Done", None),
        add("Approval", None),
    )
    return ws, [
        f"Same#{same_a}",
        f"Same#{same_b}",
        f"Kick-off#{kick}",
        f"Go-live#{live}",
        f"Approval#{early}",
        f"Done#{done}",
    ]


def test_kantata_lists_in_order_though_it_serves_newest_first() -> None:
    sandbox = KantataSandbox()
    ws, expected = kantata_seed(sandbox)
    with KantataClient("tok", http_client=sandbox.http_client()) as client:
        assert titles(list(client.milestones.list(ws))) == expected
        assert titles(list(client.milestones.stream(ws))) != expected


async def test_kantata_async_lists_in_order() -> None:
    sandbox = KantataSandbox()
    ws, expected = kantata_seed(sandbox)
    async with AsyncKantataClient("tok", http_client=sandbox.async_http_client()) as client:
        assert titles([x async for x in client.milestones.list(ws)]) == expected


def test_kantata_list_reads_every_page_first_and_stream_one_page_at_a_time() -> None:
    sandbox = KantataSandbox()
    ws = sandbox.add_workspace(currency="USD")
    for i in range(450):
        sandbox.add_milestone(ws, f"M{i:03}", 100, date_to_invoice=D1 + dt.timedelta(days=i % 7))
    pages = r"^/billing_milestones(\.json)?$"
    with KantataClient("tok", http_client=sandbox.http_client()) as client:
        streamed = client.milestones.stream(ws)
        next(streamed)
        assert sandbox.count_requests("GET", pages) == 1
        listed = client.milestones.list(ws)
        first = next(listed)
        assert sandbox.count_requests("GET", pages) == 1 + 3
        rest = [first, *listed]
    assert rest == sorted_milestones(rest) and len(rest) == 450
    assert [x.due for x in rest] == sorted(x.due for x in rest if x.due)


# -- crm.com ------------------------------------------------------------------------------------------
def crmcom_draft(sandbox: CrmComSandbox) -> tuple[str, OrderDraft]:
    seed = sandbox.seed_demo()
    queue = sandbox.add_queue("Out of order", [("signed", 25), ("Build", 25), ("alpha", 25), ("Zeta", 25)])
    draft = OrderDraft(
        account_id=seed.account_id,
        supply_method="PICK_UP",
        delivery_method="COURIER_SERVICE",
        payment_method_type="CASH",
        items=[{"id": seed.products["USD"], "quantity": 4}],
        queue_id=queue.id,
    )
    return seed.secret_key, draft


def test_crmcom_lists_by_title_as_every_milestone_is_undated() -> None:
    sandbox = CrmComSandbox()
    key, draft = crmcom_draft(sandbox)
    with CrmComClient(key, http_client=sandbox.http_client()) as client:
        draft_id = client.milestones.open_draft(draft)
        assert [x.title for x in client.milestones.list(draft_id)] == ["alpha", "Build", "signed", "Zeta"]
        assert [x.title for x in client.milestones.stream(draft_id)] == ["signed", "Build", "alpha", "Zeta"]


async def test_crmcom_async_lists_by_title() -> None:
    sandbox = CrmComSandbox()
    key, draft = crmcom_draft(sandbox)
    async with AsyncCrmComClient(key, http_client=sandbox.async_http_client()) as client:
        draft_id = await client.milestones.open_draft(draft)
        assert [x.title async for x in client.milestones.list(draft_id)] == ["alpha", "Build", "signed", "Zeta"]
        assert [x.title async for x in client.milestones.stream(draft_id)] == ["signed", "Build", "alpha", "Zeta"]


@pytest.mark.parametrize("platform", ["autotask", "kantata"])
def test_load_sides_reads_the_platform_order(platform: str) -> None:
    """The sync engine reads ``stream``: sorting a whole listing would cost it memory for nothing."""
    from billing_milestones.sync import SyncPair, load_sides

    if platform == "autotask":
        at = AutotaskSandbox()
        cid, _ = autotask_seed(at)
        client: Any = autotask_client(at)
        container, plat = str(cid), Platform.AUTOTASK
    else:
        km = KantataSandbox()
        container, _ = kantata_seed(km)
        client, plat = KantataClient("tok", http_client=km.http_client()), Platform.KANTATA
    with client:
        pair = SyncPair(source=plat, source_container=container, target=plat, target_container=container)
        source, _ = load_sides(pair, client)
        assert titles(source) == titles(list(client.milestones.stream(container)))
