"""The per-request fast paths of the HTTP core: each skips work that cannot change the request or the result,
and each test here fails without its fast path (the work is made to raise) while the request or result stays
the one the full path gives."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime as dt
import inspect
import json
import pickle
from decimal import Decimal
from typing import Any, NoReturn

import httpx
import pytest

from billing_milestones._http import (
    APIResponse,
    Operation,
    RequestSpec,
    ResponseInfo,
    _bind,
    _core,
    _runner,
    request_id_of,
)
from billing_milestones._http._request import NO_HEADERS


def boom(*args: Any, **kwargs: Any) -> NoReturn:
    raise AssertionError("the fast path should not get here")


def build(core: _core.ClientCore, spec: RequestSpec, attempt: int = 0) -> httpx.Request:
    with httpx.Client() as client:
        return core.build_request(client, spec, attempt)


# -- URLs and credentials ---------------------------------------------------------------------------------


def test_a_relative_path_needs_no_origin_check_per_request(kit: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    core = kit.make_core()
    first = build(core, RequestSpec("GET", "things/7"))
    monkeypatch.setattr(_core.ClientCore, "same_origin", boom)  # the verdict is kept with the parsed URL
    again = build(core, RequestSpec("GET", "things/7"))
    assert again.url == first.url and again.headers["authorization"] == f"Bearer {kit.TOKEN}"


def test_the_kept_origin_verdict_is_each_base_s_own(kit: Any) -> None:
    a = kit.make_core(base_url=httpx.URL("https://a.example/v1"))
    b = kit.make_core(base_url=httpx.URL("https://b.example:8443/v1"))
    for core, host in ((a, "a.example"), (b, "b.example")):
        request = build(core, RequestSpec("GET", "things/7"))
        assert request.url.host == host and "authorization" in request.headers
    # A server-sent link is judged on its own origin, every time it is sent.
    assert "authorization" in build(a, RequestSpec("GET", "https://a.example/v1/things?page=2")).headers
    foreign = RequestSpec("GET", "https://b.example:8443/v1/things", authenticated=False)
    assert "authorization" not in build(a, foreign).headers
    assert "authorization" in build(b, RequestSpec("GET", "https://b.example:8443/v1/things")).headers


def test_the_base_url_is_turned_into_text_once_per_core(kit: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    core = kit.make_core()
    first = core.url_for(RequestSpec("GET", "things/7"))
    monkeypatch.setattr(httpx.URL, "__str__", boom)
    assert core.url_for(RequestSpec("GET", "other/8")).path == "/v1/other/8"
    assert core.url_for(RequestSpec("GET", "things/7")) is first


# -- headers and timeout ----------------------------------------------------------------------------------


def test_a_request_without_its_own_timeout_takes_the_core_s_unchecked(
    kit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    core = kit.make_core(timeout=httpx.Timeout(12.0, connect=3.0))
    monkeypatch.setattr(_core, "resolve_timeout", boom)
    assert build(core, RequestSpec("GET", "x")).extensions["timeout"] == httpx.Timeout(12.0, connect=3.0).as_dict()
    monkeypatch.undo()
    own = build(core, RequestSpec("GET", "x", timeout=5.0)).extensions["timeout"]
    assert own == httpx.Timeout(5.0).as_dict()


def test_every_attempt_sends_its_own_number(kit: Any) -> None:
    core = kit.make_core()
    counts = [build(core, RequestSpec("GET", "x"), attempt=n).headers["x-retry-count"] for n in range(40)]
    assert counts == [str(n) for n in range(40)]


def test_a_spec_without_headers_shares_one_read_only_empty_mapping() -> None:
    one, two = RequestSpec("GET", "a"), RequestSpec("POST", "b", json={})
    assert one.headers is two.headers is NO_HEADERS and dict(one.headers) == {}
    with pytest.raises(TypeError):
        one.headers["X-Mine"] = "1"  # type: ignore[index]
    assert RequestSpec("GET", "a", headers={}) == one  # equal to a spec given an empty dict


@pytest.mark.parametrize("cls", [RequestSpec, APIResponse, ResponseInfo, Operation])
def test_a_hand_written_init_takes_exactly_the_fields_with_their_defaults(cls: type) -> None:
    """Each hand-written ``__init__`` (one ``__dict__`` update) must stay in step with its fields."""
    params = list(inspect.signature(cls).parameters.values())
    fields = dataclasses.fields(cls)
    assert [p.name for p in params] == [f.name for f in fields]
    for param, f in zip(params, fields, strict=True):
        if f.default is not dataclasses.MISSING:
            default: Any = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = inspect.Parameter.empty
        assert param.default is default or param.default == default, f.name
    values = [object() for _ in fields]
    made = cls(*values)
    assert [getattr(made, f.name) for f in fields] == values
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(made, fields[0].name, None)


def test_a_request_spec_is_replaced_and_compared_as_a_frozen_dataclass() -> None:
    spec = RequestSpec("GET", "a", params={"page": 1}, limit_key="k", authenticated=False)
    assert dataclasses.replace(spec, path="b") == RequestSpec(
        "GET", "b", {"page": 1}, limit_key="k", authenticated=False
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.path = "c"  # type: ignore[misc]


# -- request ids --------------------------------------------------------------------------------------------


def response(headers: list[tuple[str, str]]) -> httpx.Response:
    return httpx.Response(200, headers=headers, request=httpx.Request("GET", "https://api.example.com/v1/x"))


def test_a_response_without_a_request_id_takes_no_header_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = response([("Content-Type", "application/json"), ("Date", "Tue, 01 Dec 2026 10:00:00 GMT")])
    monkeypatch.setattr(httpx.Headers, "__contains__", boom)
    monkeypatch.setattr(httpx.Headers, "__getitem__", boom)
    assert request_id_of(plain) is None


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([("X-Request-ID", "a")], "a"),
        ([("x-amzn-RequestId", "d")], "d"),
        ([("X-Correlation-Id", "c"), ("Request-Id", "b")], "b"),  # the documented order, not the response's
        ([("X-Amzn-Requestid", "d"), ("x-request-id", "a")], "a"),
        ([("Request-Id", "b1"), ("request-id", "b2")], "b1, b2"),  # a repeated header reads as httpx joins it
    ],
)
def test_a_request_id_is_the_first_in_the_documented_order(headers: list[tuple[str, str]], expected: str) -> None:
    assert request_id_of(response([("Server", "s"), *headers])) == expected


# -- binding results ------------------------------------------------------------------------------------------


class Wire:
    def __init__(self) -> None:
        self.info: ResponseInfo | None = None

    def _bind_response(self, info: ResponseInfo) -> None:
        self.info = info


INFO = ResponseInfo("p", 200, None, 0)


def test_a_single_result_of_a_known_type_is_bound_without_a_look_up(monkeypatch: pytest.MonkeyPatch) -> None:
    _bind.bound(Wire(), INFO)  # the type is learnt
    monkeypatch.setattr(_bind, "_binder", boom)
    monkeypatch.setattr(_bind, "Page", None)  # not even the page check is made
    again = _bind.bound(Wire(), INFO)
    assert again.info is INFO


def test_lists_of_a_type_bound_whole_are_still_bound_item_by_item() -> None:
    _bind.bound(Wire(), INFO)
    items = [Wire(), Wire()]
    assert _bind.bound(items, INFO) is items and all(item.info is INFO for item in items)
    assert _bind.bound((Wire(),), INFO)[0].info is INFO
    assert list not in _bind._SINGLE and tuple not in _bind._SINGLE
    assert _bind.bound(7, INFO) == 7 and int not in _bind._SINGLE  # nothing to bind: nothing kept


# -- the runner ------------------------------------------------------------------------------------------------


async def test_a_request_without_budget_or_limit_asks_neither(
    harness: Any, kit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness(kit.status_then_ok())
    monkeypatch.setattr(_runner, "pace", boom)
    monkeypatch.setattr(_runner, "apace", boom)
    monkeypatch.setattr(contextlib, "nullcontext", boom)  # no stand-in context manager either
    result = await h.request(RequestSpec("GET", "/things", limit_key="things"))
    assert isinstance(result, APIResponse) and result.status_code == 200 and h.attempts == 1


# -- the pagination guard's identity --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        RequestSpec("GET", "things", params={"page": 2, "per_page": 200, "include": "workspace"}),
        RequestSpec("POST", "q", json={"filter": [{"op": "eq", "value": Decimal("1.5")}], "at": dt.date(2026, 1, 2)}),
        RequestSpec("GET", "other", params=None, json={"ü": None, "b": [True, 1]}),
    ],
)
def test_a_spec_s_identity_is_json_dumps_of_it_by_one_shared_encoder(
    spec: RequestSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = json.dumps(spec.json, sort_keys=True, default=str) if spec.json is not None else ""
    expected = f"{spec.method} {spec.path} {json.dumps(dict(spec.params or {}), sort_keys=True, default=str)} {body}"
    monkeypatch.setattr(json, "dumps", boom)  # no encoder made per call
    assert spec.identity() == expected


def test_a_spec_without_headers_still_copies_and_pickles() -> None:
    spec = RequestSpec("GET", "a", params={"page": 1})
    for again in (copy.deepcopy(spec), pickle.loads(pickle.dumps(spec)), copy.copy(spec)):
        assert again == spec and again.headers is NO_HEADERS
    info = ResponseInfo("p", 200, "r-1", 1)
    assert pickle.loads(pickle.dumps(info)) == info == copy.deepcopy(info)
