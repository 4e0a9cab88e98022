"""The contract checker itself, on a small description: each kind of mismatch is reported, fits are not.

Without these the contract tests could pass by checking nothing (a matcher that finds no operation, a schema
left open); each case below is a way the checker must fail.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from . import _specs, conftest
from ._openapi import ApiDescription, Exchange, load_description
from ._overrides import OVERRIDES, Override, apply_overrides

ITEM = {"type": "object", "properties": {"id": {"type": "string"}, "n": {"type": "integer", "nullable": True}}}
DOC: dict[str, Any] = {
    "openapi": "3.0.3",
    "security": [{"bearer": []}],
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "key": {"type": "apiKey", "in": "header", "name": "api_key"},
        },
        "schemas": {
            "Item": ITEM,
            "Loose": {"type": "object", "x-elided": "more", "properties": {"a": {"type": "string"}}},
        },
    },
    "paths": {
        "/items/{id}": {
            "get": {
                "parameters": [
                    {"in": "path", "name": "id", "required": True, "schema": {"type": "integer"}},
                    {"in": "query", "name": "page", "schema": {"type": "integer", "maximum": 5}},
                ],
                "responses": {
                    "200": {
                        "content": {
                            "application/json": {
                                "schema": {"type": "object", "allOf": [{"$ref": "#/components/schemas/Item"}]}
                            }
                        }
                    },
                    "404": {"description": "prose only"},
                },
            },
            "put": {
                "security": [{"key": []}],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
                },
                "responses": {
                    "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Loose"}}}}
                },
            },
        }
    },
}
API = ApiDescription(DOC, base_path="/v1")
BEARER = {"Authorization": "Bearer t"}


def request(method: str, path: str, *, headers: dict[str, str] | None = None, body: Any = None) -> httpx.Request:
    return httpx.Request(method, f"https://h/v1{path}", headers=headers or {}, json=body)


def answer(req: httpx.Request, status: int, body: Any = None) -> Exchange:
    return Exchange(req, httpx.Response(status, json=body) if body is not None else httpx.Response(status))


@pytest.mark.parametrize(
    ("req", "problem"),
    [
        (request("GET", "/items/7?page=2", headers=BEARER), None),
        (request("DELETE", "/items/7", headers=BEARER), "no such operation"),
        (request("GET", "/elsewhere", headers=BEARER), "no such operation"),
        (request("GET", "/items/seven", headers=BEARER), "path id: (root): 'seven' is not of type 'integer'"),
        (request("GET", "/items/7?per_page=2", headers=BEARER), "query 'per_page' is not a documented parameter"),
        (request("GET", "/items/7?page=9", headers=BEARER), "query page: (root): 9 is greater than the maximum of 5"),
        (request("GET", "/items/7"), "no security requirement is met"),
        (request("GET", "/items/7", headers={"Authorization": "Token t"}), "no security requirement is met"),
        (request("PUT", "/items/7", headers={"api_key": "k"}, body={"id": "a"}), None),
        (request("PUT", "/items/7", headers=BEARER, body={"id": "a"}), "documented: key"),
        (request("PUT", "/items/7", headers={"api_key": "k"}, body={"id": "a", "x": 1}), "'x' was unexpected"),
        (request("PUT", "/items/7", headers={"api_key": "k"}, body={"id": 1}), "body: id: 1 is not of type 'string'"),
        (request("PUT", "/items/7", headers={"api_key": "k"}), "a request body is required"),
    ],
)
def test_requests(req: httpx.Request, problem: str | None) -> None:
    found = API.check_request(req)
    if problem is None:
        assert found == []
    else:
        assert len(found) == 1 and problem in found[0], found


@pytest.mark.parametrize(
    ("status", "body", "problem"),
    [
        (200, {"id": "a", "n": None}, None),
        (200, {"id": "a", "extra": 1}, "'extra' was unexpected"),  # closed, through allOf and $ref
        (200, {"id": 3}, "3 is not of type 'string'"),
        (404, {"anything": "goes"}, None),  # documented in prose only
        (500, {"errors": []}, "status not documented"),
    ],
)
def test_responses(status: int, body: Any, problem: str | None) -> None:
    found = API.check_response(answer(request("GET", "/items/7", headers=BEARER), status, body))
    if problem is None:
        assert found == []
    else:
        assert len(found) == 1 and problem in found[0], found


def test_a_schema_marked_elided_stays_open_in_responses_but_not_in_requests() -> None:
    put = request("PUT", "/items/7", headers={"api_key": "k"}, body={"id": "a"})
    assert API.check_response(answer(put, 200, {"a": "x", "undocumented": 1})) == []
    assert API.check_response(answer(put, 200, {"a": 1})) != []


def test_overrides_edit_only_their_platform_and_a_wrong_pointer_fails_loudly() -> None:
    rows = [
        Override("p", ("/a/b",), "set", 1, "r"),
        Override("p", ("/a/c",), "move", "d", "r"),
        Override("p", ("/a/x/../e",), "merge", {"f": 2}, "r"),
        Override("q", ("/a",), "remove", None, "r"),
    ]
    doc = {"a": {"c": 3, "e": {}}}
    assert apply_overrides(doc, "p", rows) == {"a": {"b": 1, "d": 3, "e": {"f": 2}}}
    assert doc == {"a": {"c": 3, "e": {}}}  # the loaded document is not touched
    with pytest.raises(KeyError):
        apply_overrides(doc, "p", [Override("p", ("/nowhere/b",), "set", 1, "r")])


def test_every_override_has_a_reason_and_resolves(tmp_path: Path) -> None:
    assert all(len(row.reason) > 40 for row in OVERRIDES)
    for relative, platform in _specs.DESCRIPTIONS.items():
        path = _specs.SPECS / relative
        if path.is_file():
            apply_overrides(json.loads(path.read_text()), platform, OVERRIDES)  # raises on a stale pointer


def test_a_missing_description_skips_with_the_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_specs, "SPECS", tmp_path)
    with pytest.raises(pytest.skip.Exception, match=r"contract tests need \.\./shared/specs"):
        conftest._load("kantata/billing-milestones.excerpt.openapi.json", "kantata")


def test_load_description_reads_numbers_as_decimal(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"paths": {}, "x": 1.5}))
    assert str(load_description(path, "p", [], base_path="").document["x"]) == "1.5"


def test_judge_skips_what_the_description_does_not_cover_and_nothing_else() -> None:
    doc = {**DOC, "x-unchecked-paths": ["/stories"], "x-path-suffixes": [".json"]}
    api = ApiDescription(doc, base_path="/v1")
    good = request("GET", "/items/7.json", headers=BEARER)
    assert api.judge(answer(good, 200, {"id": "a"})) == []  # the suffix is tolerated, the body still checked:
    assert api.judge(answer(good, 200, {"id": 1})) != []
    assert api.judge(answer(request("GET", "/stories?any=1"), 200, {})) == []  # listed as unchecked
    assert api.judge(answer(httpx.Request("GET", "https://h/elsewhere"), 200, {})) == []  # not under /v1
    assert api.judge(answer(good, 503, {"x": 1})) == []  # an injected fault: no documented answer to check
    anonymous = request("GET", "/items/7")
    assert api.judge(answer(anonymous, 401, {})) == []  # refused for its missing credential, as documented
    assert api.judge(answer(anonymous, 200, {"id": "a"})) != []  # ... but served without one is a mismatch
    assert api.judge(answer(request("GET", "/items/7?bogus=1", headers=BEARER), 401, {})) != []


def test_checked_sees_every_in_process_exchange() -> None:
    from billing_milestones.sandbox.kantata import KantataSandbox

    from ._suite import checked, description

    if description("kantata") is None:
        pytest.skip("vendor description not found: contract tests need ../shared/specs beside the clone")
    sandbox = KantataSandbox()
    with checked("kantata") as problems, sandbox.http_client(headers={"Authorization": "Bearer t"}) as http:
        http.get("https://api.mavenlink.com/api/v1/billing_milestones", params={"per_page": 5})
        assert problems == []
        http.get("https://api.mavenlink.com/api/v1/billing_milestones", params={"workspace_id": 5})
    assert problems == ["GET /billing_milestones: query 'workspace_id' is not a documented parameter"]


SWAGGER: dict[str, Any] = {
    "swagger": "2.0",
    "basePath": "/svc",
    "definitions": {
        "Filter": {
            "type": "object",
            "properties": {
                "op": {"type": "string"},
                "items": {"type": "array", "items": {"$ref": "#/definitions/Filter"}},
            },
        },
        "Query": {
            "type": "object",
            "properties": {"filter": {"type": "array", "items": {"$ref": "#/definitions/Filter"}}},
        },
        "Item": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "note": {"type": "string", "x-nullable": True}},
        },
    },
    "paths": {
        "/V1.0/Things/{id}": {
            "get": {
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "type": "integer"},
                    {"name": "Secret", "in": "header", "required": True, "type": "string"},
                ],
                "responses": {"200": {"schema": {"$ref": "#/definitions/Item"}}},
            }
        },
        "/V1.0/Things/entityInformation": {"get": {"responses": {"200": {"schema": {"type": "object"}}}}},
        "/V1.0/Things/query": {
            "post": {
                "parameters": [
                    {"name": "body", "in": "body", "required": True, "schema": {"$ref": "#/definitions/Query"}}
                ],
                "responses": {"200": {"description": "OK"}},
            }
        },
    },
}


def test_swagger_2_descriptions_are_checked_like_openapi_3(tmp_path: Path) -> None:
    """What an Autotask part needs: header parameters, a body parameter, swagger responses, recursive schemas."""
    path = tmp_path / "swagger.json"
    path.write_text(json.dumps(SWAGGER))
    api = load_description(path, "p", [], base_path="/svc")
    url = "https://h/svc/V1.0/Things"
    assert api.check_request(httpx.Request("GET", f"{url}/7", headers={"Secret": "s"})) == []
    assert "header Secret is required" in api.check_request(httpx.Request("GET", f"{url}/7"))[0]
    assert api.check_request(httpx.Request("GET", f"{url}/entityInformation")) == []  # the literal, not {id}
    nested = {"filter": [{"op": "and", "items": [{"op": "eq", "anything": 1}]}]}  # open below the first level
    assert api.check_request(httpx.Request("POST", f"{url}/query", json=nested)) == []
    wrong = api.check_request(httpx.Request("POST", f"{url}/query", json={"filter": [{"op": 1}], "MaxRecords": 5}))
    assert len(wrong) == 2 and any("'MaxRecords' was unexpected" in p for p in wrong)
    got = Exchange(
        httpx.Request("GET", f"{url}/7", headers={"Secret": "s"}), httpx.Response(200, json={"id": 7, "note": None})
    )
    assert api.check_response(got) == []


def test_keys_beside_a_ref_are_kept(tmp_path: Path) -> None:
    """An override's ``x-nullable`` beside a ``$ref`` (Autotask's ``item: null``) must reach the check."""
    doc = copy.deepcopy(SWAGGER)
    schema = {"type": "object", "properties": {"item": {"$ref": "#/definitions/Item"}}}
    doc["paths"]["/V1.0/Things/{id}"]["get"]["responses"]["200"]["schema"] = schema
    path = tmp_path / "swagger.json"
    path.write_text(json.dumps(doc))
    row = Override(
        "p",
        ("/paths/~1V1.0~1Things~1{id}/get/responses/200/schema/properties/item",),
        "merge",
        {"x-nullable": True},
        "r",
    )
    req = httpx.Request("GET", "https://h/svc/V1.0/Things/7", headers={"Secret": "s"})
    null = Exchange(req, httpx.Response(200, json={"item": None}))
    assert load_description(path, "p", [], base_path="/svc").check_response(null) != []
    assert load_description(path, "p", [row], base_path="/svc").check_response(null) == []
    wrong = Exchange(req, httpx.Response(200, json={"item": {"id": "x"}}))
    assert load_description(path, "p", [row], base_path="/svc").check_response(wrong) != []  # still the Item


def test_without_the_descriptions_the_platform_suites_still_run_unchecked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from billing_milestones.sandbox.kantata import KantataSandbox

    from ._suite import checked, description

    monkeypatch.setattr(_specs, "SPECS", tmp_path)
    description.cache_clear()
    try:
        assert description("kantata") is None
        with checked("kantata") as problems, KantataSandbox().http_client(headers={"Authorization": "Bearer t"}) as h:
            h.get("https://api.mavenlink.com/api/v1/billing_milestones", params={"workspace_id": 5})
        assert problems == []
    finally:
        description.cache_clear()  # the next test loads the real description again
