"""Hypothesis fuzz of every Kantata response parser, through the clients as a user calls them.

Each operation gets a scripted server holding valid documented replies (three listing pages, a workspace,
a single-object reply). Hypothesis changes one thing per example: a value anywhere replaced by another
JSON value (wrong types, booleans, huge numbers, text), a key deleted, a list element repeated, a page
repeated, the reply replaced by an error body, or the status changed. The call must then either return
exactly the data the (changed) replies hold, or raise a ``BillingMilestonesError``: never a pydantic
ValidationError, KeyError, TypeError, RecursionError or an httpx error, and never a short or repeated list.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_milestones import errors
from billing_milestones._http import dumps
from billing_milestones.kantata import AsyncKantataClient, BillingMilestone, KantataClient, Story, Workspace
from billing_milestones.model import Milestone
from billing_milestones.money import Money

WS = "10"
SIZE = 2
IDS = ["1", "2", "3", "4", "5", "6"]


def ms(ident: str) -> dict[str, Any]:
    story = ident == "2"
    return {
        "id": ident,
        "title": f"M{ident}",
        "amount_in_cents": 1000 * int(ident) - 1,
        "currency": "USD",
        "billing_type": "upon_completion" if story else "fixed_date",
        "date_to_invoice": None if story else "2026-05-01",
        "story_id": "7" if story else None,
        "workspace_id": WS,
        "invoice_id": None,
        "external_reference_ids": ["50"] if ident == "1" else [],
        "created_at": "2026-01-01T10:00:00-07:00",
        "updated_at": "2026-01-01T10:00:00-07:00",
    }


def envelope(key: str, items: list[dict[str, Any]], *, page: int = 1, total: int | None = None) -> dict[str, Any]:
    total = len(items) if total is None else total
    body: dict[str, Any] = {
        "count": total,
        "meta": {"count": total, "page_count": -(-total // SIZE), "page_number": page, "page_size": SIZE},
        "results": [{"key": key, "id": i["id"]} for i in items],
        key: {i["id"]: i for i in items},
    }
    if key == "billing_milestones":
        body["external_references"] = {}
        body["stories"] = {}
        for item in items:
            if item["external_reference_ids"]:
                body["external_references"]["50"] = {
                    "id": "50",
                    "service_name": "billing-milestones",
                    "service_model": "billing_milestone",
                    "service_model_ref": "key-1",
                    "subject_id": int(item["id"]),
                    "subject_type": "BillingMilestone",
                    "locked": False,
                }
            if item["story_id"]:
                body["stories"]["7"] = {"id": "7", "title": "T", "state": "completed", "workspace_id": WS}
    return body


def pages(key: str, make: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    chunks = [IDS[i : i + SIZE] for i in range(0, len(IDS), SIZE)]
    return {
        f"page{n}": envelope(key, [make(i) for i in chunk], page=n, total=len(IDS))
        for n, chunk in enumerate(chunks, start=1)
    }


def story(ident: str) -> dict[str, Any]:
    return {"id": ident, "title": f"S{ident}", "state": "started", "workspace_id": WS, "parent_id": None}


WORKSPACE = envelope("workspaces", [{"id": WS, "title": "P", "currency": "USD", "currency_base_unit": 100}])
MILESTONES = pages("billing_milestones", ms)
SINGLE = envelope("billing_milestones", [ms("1")])


class Server:
    """Answers each route from one named document of the world; ``statuses`` overrides a status."""

    def __init__(self, world: dict[str, Any], statuses: dict[str, int]) -> None:
        self.world = world
        self.statuses = statuses

    def _doc(self, request: httpx.Request) -> str:
        path = request.url.path.removeprefix("/api/v1/")
        if path.startswith("workspaces/"):
            return "workspace"
        if path in ("billing_milestones", "stories") and request.method == "GET":
            return f"page{min(int(request.url.params.get('page', '1')), 3)}"
        if request.method == "DELETE":
            return "deleted"
        return "single"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        name = self._doc(request)
        body = self.world.get(name)
        content = b"" if body is None else dumps(body).encode()
        status = self.statuses.get(name, 204 if name == "deleted" else 200)
        return httpx.Response(status, content=content, headers={"Content-Type": "application/json"})


# -- what a successful call must equal ----------------------------------------------------------------------
def _objects(world: dict[str, Any], key: str) -> dict[str, Any]:
    """Every object the replies hold under ``key``, by id (the last page wins, as a later reply would)."""
    found: dict[str, Any] = {}
    for name in sorted(world):
        doc = world[name]
        if isinstance(doc, dict) and isinstance(doc.get(key), dict):
            found.update({str(k): v for k, v in doc[key].items()})
    return found


def _same_milestone(m: BillingMilestone, obj: dict[str, Any]) -> None:
    assert type(obj["amount_in_cents"]) is int and m.amount_in_cents == obj["amount_in_cents"]
    assert not isinstance(obj["id"], bool) and m.id == str(obj["id"])
    assert m.title == obj["title"] and m.workspace_id == str(obj["workspace_id"])
    assert set(obj) <= set(m.raw())  # nothing dropped, unknown fields included


def check_milestones(got: list[BillingMilestone], world: dict[str, Any], ids: list[str]) -> None:
    assert [m.id for m in got] == ids
    objects = _objects(world, "billing_milestones")
    for m in got:
        _same_milestone(m, objects[m.id])


def check_common(got: list[Milestone], world: dict[str, Any], ids: list[str]) -> None:
    assert [m.key.id for m in got if m.key] == ids and len(got) == len(ids)
    objects = _objects(world, "billing_milestones")
    base = _objects(world, "workspaces")[WS].get("currency_base_unit")
    base = 100 if base is None else base  # without a base unit, ISO 4217's USD exponent applies
    assert type(base) is int
    for m in got:
        obj = objects[m.key.id]  # type: ignore[union-attr]
        assert type(obj["amount_in_cents"]) is int and m.title == obj["title"]
        assert m.amount == Money(Decimal(obj["amount_in_cents"]) / base, m.amount.currency)  # type: ignore[union-attr]


@dataclass(frozen=True)
class Op:
    world: dict[str, Any]
    call: Callable[[KantataClient], Any]
    acall: Callable[[AsyncKantataClient], Any] | None
    check: Callable[[Any, dict[str, Any]], None]


def _alist(make: Callable[[AsyncKantataClient], Any]) -> Callable[[AsyncKantataClient], Any]:
    async def run(client: AsyncKantataClient) -> list[Any]:
        return [x async for x in make(client)]

    return run


ITEM = {"workspace_id": WS, "title": "M1", "amount_in_cents": 999}
NEW = Milestone(title="M1", amount=Money("9.99", "USD"))
OPS: dict[str, Op] = {
    "billing_milestones.list": Op(
        MILESTONES,
        lambda c: list(c.billing_milestones.list(workspace_ids=[WS], include=["external_references", "story"])),
        _alist(lambda c: c.billing_milestones.list(workspace_ids=[WS], include=["external_references"])),
        lambda got, w: check_milestones(got, w, IDS),
    ),
    "billing_milestones.get": Op(
        {"single": SINGLE},
        lambda c: c.billing_milestones.get("1", include=["external_references"]),
        lambda c: c.billing_milestones.get("1", include=["external_references"]),
        lambda got, w: check_milestones([got], w, ["1"]),
    ),
    "billing_milestones.create": Op(
        {"single": SINGLE},
        lambda c: c.billing_milestones.create(**ITEM),  # type: ignore[arg-type]
        None,
        lambda got, w: check_milestones([got], w, ["1"]),
    ),
    "billing_milestones.create_many": Op(
        {"single": SINGLE},
        lambda c: c.billing_milestones.create_many([ITEM]),
        lambda c: c.billing_milestones.create_many([ITEM]),
        lambda got, w: check_milestones(got, w, ["1"]),
    ),
    "billing_milestones.update": Op(
        {"single": SINGLE},
        lambda c: c.billing_milestones.update("1", title="M1"),
        None,
        lambda got, w: check_milestones([got], w, ["1"]),
    ),
    "billing_milestones.delete": Op(
        {"deleted": None}, lambda c: c.billing_milestones.delete("1"), None, lambda got, w: None
    ),
    "workspaces.get": Op(
        {"single": WORKSPACE, "workspace": WORKSPACE},
        lambda c: c.workspaces.get(WS),
        None,
        lambda got, w: _check_workspace(got, w),
    ),
    "stories.list": Op(
        pages("stories", story), lambda c: list(c.stories.list(workspace_id=WS)), None, lambda got, w: _stories(got, w)
    ),
    "stories.get": Op(
        {"single": envelope("stories", [story("1")])},
        lambda c: c.stories.get("1"),
        None,
        lambda got, w: _stories([got], w, ["1"]),
    ),
    # stream: the served order (list sorts, see billing_milestones._order and tests/test_listing_order.py)
    "milestones.list": Op(
        {"workspace": WORKSPACE, **MILESTONES},
        lambda c: list(c.milestones.stream(WS)),
        _alist(lambda c: c.milestones.stream(WS)),
        lambda got, w: check_common(got, w, IDS),
    ),
    "milestones.create": Op(
        {"workspace": WORKSPACE, "single": SINGLE},
        lambda c: c.milestones.create(WS, [NEW]),
        lambda c: c.milestones.create(WS, [NEW]),
        lambda got, w: check_common(got, w, ["1"]),
    ),
}


def _check_workspace(got: Workspace, world: dict[str, Any]) -> None:
    obj = _objects(world, "workspaces")[WS]
    assert got.id == WS and got.currency == obj.get("currency")
    assert got.currency_base_unit == obj.get("currency_base_unit") and not isinstance(
        obj.get("currency_base_unit"), bool
    )


def _stories(got: list[Story], world: dict[str, Any], ids: list[str] = IDS) -> None:
    assert [s.id for s in got] == ids
    objects = _objects(world, "stories")
    assert all(s.title == objects[s.id].get("title") for s in got)


# -- the changes ----------------------------------------------------------------------------------------------
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-(10**20), max_value=10**20)
    | st.text(max_size=6)
    | st.sampled_from(["1", "2", "10", "0", "-1", "", "true", "2026-01-01", "1e400", "USD", "billing_milestones"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
ERROR_BODIES = [
    {"errors": [{"type": "system", "message": "boom"}]},
    {"errors": [{"type": "oauth", "message": "revoked"}]},
    {"errors": [{"type": "validation", "message": "is invoiced", "field": "invoice_id"}]},
    {"errors": {"title": ["can't be blank"]}},
    {"error_message": "Something went wrong"},
]
#: Values of the wrong type for every documented field (booleans are never ids or money).
WRONG: list[Any] = [True, False, None, 0, "1", "", Decimal("1.5"), 2**60, -1, [], {}]
STATUSES = [200, 201, 204, 301, 400, 401, 403, 404, 409, 422, 429, 500, 503]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        doc = doc[step]
    return doc


@st.composite
def changed(draw: st.DrawFn, template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, int]]:
    world = copy.deepcopy(template)
    statuses: dict[str, int] = {}
    name = draw(st.sampled_from(sorted(world)))
    kind = draw(st.sampled_from(["replace", "retype", "retype", "delete", "repeat", "error", "status", "page", "none"]))
    if kind == "error":
        world[name] = copy.deepcopy(draw(st.sampled_from(ERROR_BODIES)))
    elif kind == "status":
        statuses[name] = draw(st.sampled_from(STATUSES))
    elif kind == "page":
        names = sorted(n for n in world if n.startswith("page"))
        if len(names) > 1:
            source, target = sorted(draw(st.lists(st.sampled_from(names), min_size=2, max_size=2, unique=True)))
            world[target] = copy.deepcopy(world[source])
    elif kind != "none":
        path = draw(st.sampled_from(_paths(world[name])))
        if kind in ("replace", "retype"):
            value = draw(JSON_VALUES if kind == "replace" else st.sampled_from(WRONG))
            if path:
                _parent(world[name], path)[path[-1]] = value
            else:
                world[name] = value
        elif path:
            parent = _parent(world[name], path)
            if kind == "delete":
                del parent[path[-1]]
            elif isinstance(parent, list):
                parent.append(copy.deepcopy(parent[path[-1]]))
    return world, statuses


# -- the property ---------------------------------------------------------------------------------------------
FUZZ = settings(
    max_examples=200, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def _outcome(run: Callable[[], Any], op: Op, world: dict[str, Any]) -> None:
    try:
        got = run()
    except errors.BillingMilestonesError:
        return
    op.check(got, world)


@pytest.mark.parametrize("name", sorted(OPS))
def test_sync_calls_return_exact_data_or_a_typed_error(name: str) -> None:
    op = OPS[name]

    @FUZZ
    @given(changed(op.world))
    def run(case: tuple[dict[str, Any], dict[str, int]]) -> None:
        world, statuses = case
        http = httpx.Client(transport=httpx.MockTransport(Server(world, statuses)))
        with KantataClient("t", http_client=http, max_retries=0) as client:
            _outcome(lambda: op.call(client), op, world)

    run()


@pytest.mark.parametrize("name", sorted(n for n, op in OPS.items() if op.acall is not None))
def test_async_calls_return_exact_data_or_a_typed_error(name: str) -> None:
    op = OPS[name]
    acall = op.acall
    assert acall is not None

    async def call(world: dict[str, Any], statuses: dict[str, int]) -> Any:
        http = httpx.AsyncClient(transport=httpx.MockTransport(Server(world, statuses)))
        async with AsyncKantataClient("t", http_client=http, max_retries=0) as client:
            return await acall(client)

    @settings(FUZZ, max_examples=100)  # the parsers are the sync ones; this covers the async runner
    @given(changed(op.world))
    def run(case: tuple[dict[str, Any], dict[str, int]]) -> None:
        world, statuses = case
        _outcome(lambda: asyncio.run(call(world, statuses)), op, world)

    run()


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_value_retyped_returns_exact_data_or_a_typed_error(name: str) -> None:
    """Exhaustive where the fuzz is random: each value of each reply, in turn, becomes each wrong type."""
    op = OPS[name]
    for doc in sorted(op.world):
        for path in _paths(op.world[doc])[1:]:
            for value in WRONG:
                world = copy.deepcopy(op.world)
                _parent(world[doc], path)[path[-1]] = value
                http = httpx.Client(transport=httpx.MockTransport(Server(world, {})))
                with KantataClient("t", http_client=http, max_retries=0) as client:
                    try:
                        _outcome(lambda: op.call(client), op, world)
                    except AssertionError as exc:
                        raise AssertionError(f"{doc} {path} = {value!r}: {exc}") from exc


@pytest.mark.parametrize("name", sorted(OPS))
def test_the_unchanged_replies_are_returned_exactly(name: str) -> None:
    """The fuzz's baseline: without a change every call succeeds and its check holds."""
    op = OPS[name]
    world = copy.deepcopy(op.world)
    http = httpx.Client(transport=httpx.MockTransport(Server(world, {})))
    with KantataClient("t", http_client=http, max_retries=0) as client:
        op.check(op.call(client), world)
