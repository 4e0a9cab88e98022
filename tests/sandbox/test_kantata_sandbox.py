"""The Kantata emulator, spoken to with plain httpx: envelope, paging, filters, includes, errors, limits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from billing_milestones import demo
from billing_milestones.sandbox import FaultPlan, LoopbackServer, RateLimit
from billing_milestones.sandbox.kantata import DEMO_TOKEN, KantataSandbox

BASE = "https://api.mavenlink.com/api/v1"
AUTH = {"Authorization": "Bearer tok"}


@pytest.fixture
def sandbox() -> KantataSandbox:
    return KantataSandbox()


@pytest.fixture
def http(sandbox: KantataSandbox) -> Iterator[httpx.Client]:
    with sandbox.http_client(base_url=BASE, headers=AUTH) as client:
        yield client


def errors_of(response: httpx.Response) -> list[dict[str, Any]]:
    body = response.json()
    assert set(body) == {"errors"}
    return list(body["errors"])


def test_requests_without_a_bearer_token_get_oauth_401(sandbox: KantataSandbox) -> None:
    with sandbox.http_client(base_url=BASE) as anonymous:
        response = anonymous.get("/billing_milestones")
    assert response.status_code == 401
    assert errors_of(response)[0]["type"] == "oauth"


def test_envelope_shape_and_string_ids(sandbox: KantataSandbox, http: httpx.Client) -> None:
    ids = sandbox.seed_demo()
    usd = ids["workspaces"]["USD"]
    body = http.get("/billing_milestones", params={"workspace_ids": usd}).json()
    assert set(body) == {"count", "meta", "results", "billing_milestones"}
    assert body["count"] == 4 and body["meta"] == {"count": 4, "page_count": 1, "page_number": 1, "page_size": 20}
    for ref in body["results"]:
        assert ref["key"] == "billing_milestones" and isinstance(ref["id"], str)
        record = body["billing_milestones"][ref["id"]]
        assert isinstance(record["id"], str) and isinstance(record["workspace_id"], str)
        assert isinstance(record["amount_in_cents"], int) and record["currency"] == "USD"
        assert not any(k.startswith("_") for k in record)
    # created_at:desc is the default order
    stamps = [body["billing_milestones"][r["id"]]["created_at"] for r in body["results"]]
    assert stamps == sorted(stamps, reverse=True)


def test_json_suffix_and_plain_paths_both_work(sandbox: KantataSandbox, http: httpx.Client) -> None:
    ids = sandbox.seed_demo()
    mid = ids["milestones"]["jpy_kickoff"]
    assert http.get("/billing_milestones.json").status_code == 200
    assert http.get(f"/billing_milestones/{mid}.json").json()["results"] == [{"key": "billing_milestones", "id": mid}]
    assert (
        http.get(f"/workspaces/{ids['workspaces']['JPY']}.json").json()["workspaces"][ids["workspaces"]["JPY"]][
            "currency_base_unit"
        ]
        == 1
    )


def test_pagination_meta_and_per_page_cap(sandbox: KantataSandbox, http: httpx.Client) -> None:
    ws = sandbox.add_workspace()
    for i in range(450):
        sandbox.add_milestone(ws, f"m{i}", i)
    first = http.get("/billing_milestones", params={"per_page": 500}).json()
    assert len(first["results"]) == 200 and first["meta"]["page_count"] == 3 and first["meta"]["page_size"] == 200
    last = http.get("/billing_milestones", params={"per_page": 200, "page": 3}).json()
    assert len(last["results"]) == 50 and last["meta"]["page_number"] == 3 and last["count"] == 450
    by_offset = http.get("/billing_milestones", params={"limit": 5, "offset": 445, "page": 1}).json()
    assert len(by_offset["results"]) == 5
    assert http.get("/billing_milestones", params={"page": 0}).status_code == 400


def test_filters(sandbox: KantataSandbox, http: httpx.Client) -> None:
    ids = sandbox.seed_demo()
    usd, jpy = ids["workspaces"]["USD"], ids["workspaces"]["JPY"]
    ms = ids["milestones"]
    sandbox.add_milestone(
        jpy,
        "Synced",
        10,
        external_reference={
            "service_name": "billing-milestones",
            "service_model": "billing_milestone",
            "service_model_ref": "k9",
        },
    )

    def found(**params: Any) -> set[str]:
        response = http.get("/billing_milestones", params={"per_page": 200, **params})
        assert response.status_code == 200, response.text
        return {r["id"] for r in response.json()["results"]}

    assert found(workspace_ids=f"{usd},{jpy}") >= {ms["usd_deposit"], ms["jpy_kickoff"]}
    assert found(story_ids=ids["stories"]["design"]) == {ms["usd_design"]}
    assert found(only=f"{ms['kwd_license']},{ms['usd_credit']}") == {ms["kwd_license"], ms["usd_credit"]}
    assert found(date_between="2026-02-01:2026-02-15") == {ms["usd_deposit"], ms["kwd_license"]}
    synced = found(has_external_references="true")
    assert len(synced) == 1
    assert found(external_reference_service_name="billing-milestones") == synced
    assert found(external_reference_service_model_ref="k9") == synced
    assert found(external_reference_service_model_refs="k1,k9") == synced
    assert found(external_reference_service_model_ref="nope") == set()
    assert synced.isdisjoint(found(without_external_reference_service_name="billing-milestones"))
    asc = http.get("/billing_milestones", params={"order": "created_at:asc"}).json()["results"]
    assert asc[0]["id"] == ms["usd_deposit"]
    assert http.get("/billing_milestones", params={"order": "title:asc"}).status_code == 400
    assert http.get("/billing_milestones", params={"workspace_ids": "abc"}).status_code == 400


def test_includes_side_load_into_their_own_maps(sandbox: KantataSandbox, http: httpx.Client) -> None:
    ids = sandbox.seed_demo()
    mid = ids["milestones"]["usd_deposit"]
    body = http.get(f"/billing_milestones/{mid}", params={"include": "external_references,invoices,workspace"}).json()
    record = body["billing_milestones"][mid]
    assert record["invoice_ids"] == [ids["invoices"]["usd_deposit"]]
    assert record["external_reference_ids"] == []
    assert body["invoices"][ids["invoices"]["usd_deposit"]]["billing_milestone_ids"] == [mid]
    assert body["workspaces"][ids["workspaces"]["USD"]]["currency_base_unit"] == 100
    design = ids["milestones"]["usd_design"]
    with_story = http.get(f"/billing_milestones/{design}", params={"include": "story"}).json()
    assert with_story["stories"][ids["stories"]["design"]]["state"] == "completed"
    plain = http.get(f"/billing_milestones/{design}").json()
    assert "external_reference_ids" not in plain["billing_milestones"][design] and "stories" not in plain
    assert http.get("/billing_milestones", params={"include": "bogus"}).status_code == 400


def test_external_reference_subject_id_is_an_integer_as_documented(sandbox: KantataSandbox, http: httpx.Client) -> None:
    """ExternalReference.subject_id is typed integer (issue 18, point 4), unlike every other id in the envelope."""
    workspace = sandbox.add_workspace()
    ref = {"service_name": "billing-milestones", "service_model": "Milestone", "service_model_ref": "k1"}
    item = {"workspace_id": workspace, "title": "x", "amount_in_cents": 1, "external_reference": ref}
    body = http.post("/billing_milestones", params={"include": "external_references"}, json={"billing_milestone": item})
    (mid,) = body.json()["billing_milestones"]
    (reference,) = body.json()["external_references"].values()
    assert reference["subject_id"] == int(mid) and type(reference["subject_id"]) is int
    # and the reference is still found by its milestone (filters compare the integer with the string id)
    assert http.get("/billing_milestones", params={"has_external_references": "true"}).json()["count"] == 1


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"amount_in_cents": 1}, "title"),
        ({"title": "x", "amount_in_cents": "12.5"}, "amount_in_cents"),
        ({"title": "x", "amount_in_cents": 1.5}, "amount_in_cents"),
        ({"title": "x"}, "amount_in_cents"),
        ({"title": "x", "amount_in_cents": 1, "billing_type": "upon_completion"}, "story_id"),
        ({"title": "x", "amount_in_cents": 1, "billing_type": "monthly"}, "billing_type"),
        ({"title": "x", "amount_in_cents": 1, "workspace_id": 999999}, "workspace_id"),
        ({"title": "x", "amount_in_cents": 1, "date_to_invoice": "tomorrow"}, "date_to_invoice"),
        # values of the types the checks take without being called, that their checks refuse
        ({"title": " \t", "amount_in_cents": 1}, "title"),
        ({"title": "x", "amount_in_cents": True}, "amount_in_cents"),
        ({"title": "x", "amount_in_cents": 1, "billing_type": 1}, "billing_type"),
        ({"title": "x", "amount_in_cents": 1, "date_to_invoice": "2027-02-30"}, "date_to_invoice"),
        ({"title": "x", "amount_in_cents": 1, "date_to_invoice": "2027-01-01\n"}, "date_to_invoice"),
        (
            {"title": "x", "amount_in_cents": 1, "external_reference": {"service_name": "s"}},
            "external_reference.service_model",
        ),
    ],
)
def test_validation_errors_are_422_with_a_field(
    sandbox: KantataSandbox, http: httpx.Client, item: dict[str, Any], field: str
) -> None:
    ws = sandbox.add_workspace()
    body = {"workspace_id": int(ws), **item}
    if "amount_in_cents" in item and isinstance(item["amount_in_cents"], float):
        content = f'{{"billing_milestone": {{"workspace_id": {ws}, "title": "x", "amount_in_cents": 1.5}}}}'
        response = http.post("/billing_milestones", content=content, headers={"Content-Type": "application/json"})
    else:
        response = http.post("/billing_milestones", json={"billing_milestone": body})
    assert response.status_code == 422
    [error] = errors_of(response)
    assert error["type"] == "validation" and error["field"] == field and error["message"]
    assert sandbox.milestones == {}


def test_a_date_is_stored_as_its_iso_text_however_often_it_is_sent(sandbox: KantataSandbox, http: httpx.Client) -> None:
    """A date's text is read once and remembered: each milestone sent it, in any form the API reads, stores
    the same ISO text, and a text it refuses is refused each time."""
    ws = sandbox.add_workspace()
    sent = ["20270105", "2027-01-05", "20270105", 20270105, "2027-01-05"]
    items = [{"workspace_id": ws, "title": "t", "amount_in_cents": 1, "date_to_invoice": d} for d in sent]
    body = http.post("/billing_milestones", json={"billing_milestones": items}).json()
    assert [m["date_to_invoice"] for m in body["billing_milestones"].values()] == ["2027-01-05"] * 5
    for _ in range(2):
        bad = {"workspace_id": ws, "title": "t", "amount_in_cents": 1, "date_to_invoice": "2027-13-05"}
        response = http.post("/billing_milestones", json={"billing_milestone": bad})
        assert response.status_code == 422 and errors_of(response)[0]["field"] == "date_to_invoice"


def test_bulk_create_limit_and_all_or_nothing(sandbox: KantataSandbox, http: httpx.Client) -> None:
    ws = sandbox.add_workspace()
    items = [{"workspace_id": ws, "title": f"t{i}", "amount_in_cents": i} for i in range(101)]
    too_many = http.post("/billing_milestones", json={"billing_milestones": items})
    assert too_many.status_code == 422 and errors_of(too_many)[0]["field"] == "billing_milestones"
    items[50]["title"] = ""
    assert http.post("/billing_milestones", json={"billing_milestones": items[:100]}).status_code == 422
    assert sandbox.milestones == {}
    items[50]["title"] = "fixed"
    created = http.post("/billing_milestones", json={"billing_milestones": items[:100]})
    assert created.status_code == 200
    body = created.json()
    assert [body["billing_milestones"][r["id"]]["title"] for r in body["results"]] == [i["title"] for i in items[:100]]


def test_create_accepts_integer_strings_and_returns_200(sandbox: KantataSandbox, http: httpx.Client) -> None:
    ws = sandbox.add_workspace(currency="JPY")
    response = http.post(
        "/billing_milestones", json={"billing_milestone": {"workspace_id": ws, "title": "x", "amount_in_cents": "-500"}}
    )
    assert response.status_code == 200
    [ref] = response.json()["results"]
    record = response.json()["billing_milestones"][ref["id"]]
    assert record["amount_in_cents"] == -500 and record["currency"] == "JPY" and record["billing_type"] == "fixed_date"


def test_update_and_delete(sandbox: KantataSandbox, http: httpx.Client) -> None:
    ws = sandbox.add_workspace()
    story = sandbox.add_story(ws)
    mid = sandbox.add_milestone(ws, "x", 1)
    response = http.put(
        f"/billing_milestones/{mid}",
        json={"billing_milestone": {"billing_type": "upon_completion", "story_id": int(story), "workspace_id": 1}},
    )
    assert response.status_code == 200
    stored = sandbox.milestone(mid)
    assert stored["billing_type"] == "upon_completion" and stored["story_id"] == story
    assert stored["workspace_id"] == ws  # not updatable: ignored
    cleared = http.put(f"/billing_milestones/{mid}", json={"billing_milestone": {"story_id": None}})
    assert cleared.status_code == 422 and errors_of(cleared)[0]["field"] == "story_id"
    deleted = http.delete(f"/billing_milestones/{mid}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert http.get(f"/billing_milestones/{mid}").status_code == 404
    assert http.delete(f"/billing_milestones/{mid}").status_code == 404


def test_invoiced_milestones_are_locked(sandbox: KantataSandbox, http: httpx.Client) -> None:
    ws = sandbox.add_workspace()
    mid = sandbox.add_milestone(ws, "x", 1)
    invoice = sandbox.invoice(mid)
    assert sandbox.milestone(mid)["invoice_id"] == invoice
    for response in (
        http.put(f"/billing_milestones/{mid}", json={"billing_milestone": {"title": "y"}}),
        http.delete(f"/billing_milestones/{mid}"),
    ):
        assert response.status_code == 422
        [error] = errors_of(response)
        assert error["type"] == "validation" and error["field"] == "invoice_id" and "invoiced" in error["message"]
    assert sandbox.milestone(mid)["title"] == "x"


def test_workspaces_and_stories(sandbox: KantataSandbox, http: httpx.Client) -> None:
    ids = sandbox.seed_demo()
    kwd = ids["workspaces"]["KWD"]
    workspace = http.get(f"/workspaces/{kwd}").json()["workspaces"][kwd]
    assert (workspace["currency"], workspace["currency_base_unit"]) == ("KWD", 1000)
    assert http.get("/workspaces/1").status_code == 404
    assert len(http.get("/workspaces").json()["results"]) == 3
    usd = ids["workspaces"]["USD"]
    stories = http.get("/stories", params={"workspace_id": usd}).json()
    assert {r["id"] for r in stories["results"]} == {ids["stories"]["design"], ids["stories"]["build"]}
    completed = http.get("/stories", params={"workspace_id": usd, "completed": "true"}).json()
    assert [r["id"] for r in completed["results"]] == [ids["stories"]["design"]]
    sandbox.complete_story(ids["stories"]["build"])
    assert http.get(f"/stories/{ids['stories']['build']}").json()["stories"][ids["stories"]["build"]]["state"] == (
        "completed"
    )


def test_unknown_route_and_method(http: httpx.Client) -> None:
    assert http.get("/nothing_here").status_code == 404
    assert http.patch("/billing_milestones/1").status_code == 405


def test_rate_limit_answers_429_without_retry_after_by_default() -> None:
    faithful = KantataSandbox(rate_limit=RateLimit(requests=1, per_seconds=60, send_retry_after=False))
    with faithful.http_client(base_url=BASE, headers=AUTH) as http:
        assert http.get("/workspaces").status_code == 200
        throttled = http.get("/workspaces")
    assert throttled.status_code == 429 and "retry-after" not in throttled.headers
    assert errors_of(throttled)[0]["message"]
    hinting = KantataSandbox(rate_limit=RateLimit(requests=1, per_seconds=60))
    with hinting.http_client(base_url=BASE, headers=AUTH) as http:
        http.get("/workspaces")
        assert http.get("/workspaces").headers["retry-after"] == "60"


def test_injected_faults_use_kantata_error_bodies() -> None:
    sandbox = KantataSandbox(faults=FaultPlan().status(503, times=1).rate_limit(retry_after=2, times=1))
    with sandbox.http_client(base_url=BASE, headers=AUTH) as http:
        first = http.get("/workspaces")
        second = http.get("/workspaces")
    assert first.status_code == 503 and errors_of(first)[0]["type"] == "system"
    assert second.status_code == 429 and second.headers["retry-after"] == "2"


def test_add_milestone_validates_like_the_api(sandbox: KantataSandbox) -> None:
    ws = sandbox.add_workspace()
    with pytest.raises(ValueError, match="story_id"):
        sandbox.add_milestone(ws, "x", 1, billing_type="upon_completion")


def test_seed_demo_has_three_currencies(sandbox: KantataSandbox) -> None:
    ids = sandbox.seed_demo()
    bases = {
        sandbox.workspaces[w]["currency"]: sandbox.workspaces[w]["currency_base_unit"]
        for w in ids["workspaces"].values()
    }
    assert bases == {"USD": 100, "JPY": 1, "KWD": 1000}
    assert len(sandbox.milestones) == 8
    assert sum(1 for m in sandbox.milestones.values() if m["invoice_id"]) == 1


def test_asgi_app_over_loopback(sandbox: KantataSandbox) -> None:
    ids = sandbox.seed_demo()
    with (
        LoopbackServer(sandbox.asgi_app()) as server,
        httpx.Client(base_url=server.url + "/api/v1", headers={"Authorization": f"Bearer {DEMO_TOKEN}"}) as http,
    ):
        body = http.get("/billing_milestones.json", params={"workspace_ids": ids["workspaces"]["KWD"]}).json()
        assert body["count"] == 2
        created = http.post(
            "/billing_milestones",
            json={
                "billing_milestone": {"workspace_id": ids["workspaces"]["KWD"], "title": "wire", "amount_in_cents": 1}
            },
        )
        assert created.status_code == 200
        assert http.get("/billing_milestones").status_code == 200


def test_served_it_accepts_only_the_demo_token_and_answers_others_with_the_oauth_401(sandbox: KantataSandbox) -> None:
    """Issue 18, point 10: over a socket (``milestones sandbox serve``) a wrong token is refused as the real
    service refuses it, so the wrong-credentials path can be rehearsed; in-process any token still works."""
    sandbox.seed_demo()
    with LoopbackServer(sandbox.asgi_app()) as server:
        url = server.url + "/api/v1/workspaces/1001"
        wrong = httpx.get(url, headers={"Authorization": "Bearer not-the-demo-token"})
        assert wrong.status_code == 401 and errors_of(wrong) == [
            {"type": "oauth", "message": "Invalid OAuth 2 Request"}
        ]
        assert httpx.get(url, headers={"Authorization": f"Bearer {DEMO_TOKEN}"}).status_code == 200
    with sandbox.http_client(base_url=BASE, headers={"Authorization": "Bearer any-token"}) as in_process:
        assert in_process.get("/workspaces/1001").status_code == 200


def test_served_with_explicit_tokens_accepts_exactly_those() -> None:
    sandbox = KantataSandbox(tokens={"mine"})
    sandbox.seed_demo()
    with LoopbackServer(sandbox.asgi_app()) as server:
        url = server.url + "/api/v1/workspaces/1001"
        assert httpx.get(url, headers={"Authorization": "Bearer mine"}).status_code == 200
        assert httpx.get(url, headers={"Authorization": f"Bearer {DEMO_TOKEN}"}).status_code == 401


def test_the_demo_and_sandbox_serve_hand_out_the_token_the_served_sandbox_accepts() -> None:
    """``sandbox_environment()`` (what ``sandbox serve`` prints) must name the one token a served sandbox takes."""
    assert demo.sandbox_environment("http://127.0.0.1:1")["KANTATA_TOKEN"] == DEMO_TOKEN


def test_under_sandbox_serve_a_wrong_token_is_a_401_and_the_printed_one_works() -> None:
    """The app ``milestones sandbox serve`` runs: all three emulators mounted under their prefixes."""
    world = demo.build_demo_world()
    with LoopbackServer(world.asgi_app()) as server:
        env = demo.sandbox_environment(server.url)
        url = f"{env['KANTATA_BASE_URL']}/workspaces/{world.erp_workspace}"
        wrong = httpx.get(url, headers={"Authorization": "Bearer wrong"})
        assert wrong.status_code == 401 and errors_of(wrong)[0]["type"] == "oauth"
        assert httpx.get(url, headers={"Authorization": f"Bearer {env['KANTATA_TOKEN']}"}).status_code == 200
