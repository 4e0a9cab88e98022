"""CrmComSandbox on its own: raw HTTP (no client-side checks), crm.com-style errors, state and auth."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from billing_milestones._http import dumps, loads
from billing_milestones.sandbox import FaultPlan, LoopbackServer
from billing_milestones.sandbox.crmcom import CrmComSandbox, DemoSeed

SS = "https://sandboxapi.crm.com/self-service/v2"
BO = "https://sandboxapi.crm.com/backoffice/v2"


@pytest.fixture
def sandbox() -> CrmComSandbox:
    return CrmComSandbox()


@pytest.fixture
def seed(sandbox: CrmComSandbox) -> DemoSeed:
    return sandbox.seed_demo()


@pytest.fixture
def http(sandbox: CrmComSandbox) -> Iterator[httpx.Client]:
    with sandbox.http_client() as client:
        yield client


def post(http: httpx.Client, path: str, body: Any, headers: dict[str, str], base: str = SS) -> httpx.Response:
    return http.post(base + path, content=dumps(body), headers={"Content-Type": "application/json", **headers})


def body_of(response: httpx.Response) -> Any:
    return loads(response.content)


def estimate_body(seed: DemoSeed, currency: str = "EUR", quantity: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "account_id": seed.account_id,
        "supply_method": "PICK_UP",
        "delivery_method": "COURIER_SERVICE",
        "payment_method_type": "CASH",
        "items": [{"id": seed.products[currency], "quantity": quantity}],
        **extra,
    }


def secret(seed: DemoSeed) -> dict[str, str]:
    return {"api_key": seed.secret_key}


def bearer(sandbox: CrmComSandbox, seed: DemoSeed, contact: str | None = None) -> dict[str, str]:
    access, _, _ = sandbox.issue_token(contact or seed.contact_id)
    return {"Authorization": f"Bearer {access}"}


def test_estimate_with_queue_defaults(http: httpx.Client, seed: DemoSeed) -> None:
    response = post(http, "/estimates/orders", estimate_body(seed, "EUR", 2), secret(seed))
    assert response.status_code == 200
    body = body_of(response)
    invoice = body["invoice_estimate"]
    assert invoice["currency_code"] == "EUR"
    assert (invoice["net"], invoice["tax"], invoice["total"]) == (
        Decimal("2469.12"),
        Decimal("469.13"),
        Decimal("2938.25"),
    )
    plan = body["milestone_plan_estimate"]
    assert [p["stage"]["name"] for p in plan] == ["Deposit", "In Progress", "Completed"]
    assert set(plan[0]["stage"]) == {"id", "name", "colour", "priority"}
    assert [p["percentage"] for p in plan] == [None, None, None]
    assert [p["queue_percentage"] for p in plan] == [30, 30, 40]
    # 881.475 -> 881.48 (half-even on the cent), twice; the last absorbs: 2938.25 - 1762.96
    assert [p["amount"] for p in plan] == [Decimal("881.48"), Decimal("881.48"), Decimal("1175.29")]
    assert body["orders"][0]["milestone_plan_estimate"] == plan
    assert body["order_estimate"]["queue"]["name"] == "Standard delivery"


def test_explicit_milestones_and_estimation_reuse(http: httpx.Client, seed: DemoSeed, sandbox: CrmComSandbox) -> None:
    s = seed.stages["standard"]
    first = body_of(post(http, "/estimates/orders", estimate_body(seed, "JPY"), secret(seed)))
    milestones = [{"stage_id": s[0], "amount": 1000}, {"stage_id": s[2], "percentage": Decimal("50.5")}]
    again = post(
        http,
        "/estimates/orders",
        estimate_body(seed, "JPY", milestones=milestones, estimation_id=first["id"]),
        secret(seed),
    )
    assert again.status_code == 200
    body = body_of(again)
    assert body["id"] == first["id"] and list(sandbox.estimations) == [first["id"]]
    assert [(p["stage"]["id"], p["percentage"], p["amount"]) for p in body["milestone_plan_estimate"]] == [
        (s[0], None, Decimal(1000)),
        (s[2], Decimal("50.5"), Decimal(6857)),  # 13579 x 50.5% = 6857.395
    ]
    empty = body_of(post(http, "/estimates/orders", estimate_body(seed, "JPY", milestones=[]), secret(seed)))
    assert empty["milestone_plan_estimate"] == []
    unknown = post(http, "/estimates/orders", estimate_body(seed, estimation_id="nope"), secret(seed))
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("milestones", "error", "field"),
    [
        ([{"percentage": 10}], "INVALID_MILESTONES", "milestones[0].stage_id"),
        ([{"stage_id": "S0", "percentage": 10, "amount": 5}], "INVALID_MILESTONES", "milestones[0]"),
        ([{"stage_id": "S0"}], "INVALID_MILESTONES", "milestones[0]"),
        ([{"stage_id": "S0", "percentage": -1}], "INVALID_MILESTONES", "milestones[0].percentage"),
        ([{"stage_id": "S0", "amount": Decimal("-0.01")}], "INVALID_MILESTONES", "milestones[0].amount"),
        ([{"stage_id": "S0", "amount": "5"}], "INVALID_MILESTONES", "milestones[0].amount"),
        ([{"stage_id": "S0", "amount": Decimal("1.001")}], "INVALID_MILESTONES", "milestones[0].amount"),
        (
            [{"stage_id": "S0", "percentage": 10}, {"stage_id": "S0", "amount": 1}],
            "DUPLICATE_MILESTONE_STAGE",
            "milestones[1].stage_id",
        ),
        (
            [{"stage_id": "S0", "percentage": 60}, {"stage_id": "S1", "percentage": 41}],
            "INVALID_MILESTONES",
            "milestones",
        ),
        (
            [{"stage_id": "S0", "amount": 1000}, {"stage_id": "S1", "amount": Decimal("469.14")}],
            "MILESTONES_EXCEED_TOTAL",
            "milestones",
        ),
        (
            [{"stage_id": "S0", "percentage": 50}, {"stage_id": "S1", "amount": Decimal("734.57")}],
            "MILESTONES_EXCEED_TOTAL",
            "milestones",
        ),
        ([{"stage_id": "S3", "percentage": 1}], "INVALID_MILESTONE_STAGE", "milestones[0].stage_id"),
        ([{"stage_id": "elsewhere", "percentage": 1}], "INVALID_MILESTONE_STAGE", "milestones[0].stage_id"),
        ({"stage_id": "S0"}, "INVALID_MILESTONES", "milestones"),
    ],
)
def test_rules_are_enforced_server_side(
    http: httpx.Client, seed: DemoSeed, milestones: Any, error: str, field: str
) -> None:
    stages = seed.stages["standard"]

    def resolve(value: Any) -> Any:
        if isinstance(value, list):
            return [resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, str) and value in ("S0", "S1", "S2", "S3"):
            return stages[int(value[1])]
        return value

    response = post(http, "/estimates/orders", estimate_body(seed, "EUR", milestones=resolve(milestones)), secret(seed))
    assert response.status_code == 400  # the order total is 1469.13 EUR
    body = body_of(response)
    assert set(body) == {"status", "message", "error", "parameters"}
    assert body["status"] == 400 and body["error"] == error and body["parameters"]["field"] == field


def test_request_validation_errors(http: httpx.Client, seed: DemoSeed) -> None:
    for missing in ("account_id", "supply_method", "delivery_method", "payment_method_type", "items"):
        body = estimate_body(seed)
        del body[missing]
        response = post(http, "/estimates/orders", body, secret(seed))
        assert response.status_code == 400 and body_of(response)["parameters"] == {"field": missing}
    mixed = estimate_body(seed, items=[{"id": seed.products["EUR"]}, {"id": seed.products["USD"]}])
    assert body_of(post(http, "/estimates/orders", mixed, secret(seed)))["error"] == "CURRENCY_MISMATCH"
    bad_json = http.post(SS + "/estimates/orders", content=b"{", headers=secret(seed))
    assert bad_json.status_code == 400 and body_of(bad_json)["error"] == "INVALID_JSON"
    assert post(http, "/estimates/orders", estimate_body(seed, queue_id="nope"), secret(seed)).status_code == 404


def test_auth(http: httpx.Client, seed: DemoSeed, sandbox: CrmComSandbox) -> None:
    body = estimate_body(seed)
    assert post(http, "/estimates/orders", body, {}).status_code == 401
    assert post(http, "/estimates/orders", body, {"api_key": "wrong"}).status_code == 401
    public = post(http, "/estimates/orders", body, {"api_key": seed.public_key})
    assert public.status_code == 401 and "secret key" in body_of(public)["message"]
    assert post(http, "/estimates/orders", body, {"Authorization": "Bearer nope"}).status_code == 401
    assert post(http, "/estimates/orders", body, bearer(sandbox, seed)).status_code == 200
    other = post(http, "/estimates/orders", body, bearer(sandbox, seed, seed.other_contact_id))
    assert other.status_code == 403
    # Backoffice accepts the raw token (as the client seen in the wild sends it); Self-Service wants Bearer
    access, _, _ = sandbox.issue_token(seed.contact_id)
    assert post(http, "/estimates/orders", body, {"Authorization": access}, base=BO).status_code == 200
    assert post(http, "/estimates/orders", body, {"Authorization": access}).status_code == 401


def test_token_expiry_and_refresh() -> None:
    now = [100.0]
    sandbox = CrmComSandbox(clock=lambda: now[0], token_ttl=60)
    seed = sandbox.seed_demo()
    with sandbox.http_client() as http:
        login = post(
            http,
            "/contacts/authenticate",
            {"provider": "EMAIL", "username": seed.email, "password": seed.password},
            {"api_key": seed.public_key},
        )
        tokens = body_of(login)
        assert login.status_code == 200 and tokens["expiration_date"] == 160
        # As documented: the contact under `contact`, no top-level contact_id (issue 18, point 1).
        assert tokens["contact"]["id"] == seed.contact_id and "contact_id" not in tokens
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert http.get(f"{SS}/orders/x", headers=auth).status_code == 404
        now[0] = 161
        expired = http.get(f"{SS}/orders/x", headers=auth)
        assert expired.status_code == 401 and body_of(expired)["error"] == "TOKEN_EXPIRED"
        refreshed = post(http, "/contacts/refresh", None, {"Authorization": f"Bearer {tokens['refresh_token']}"})
        assert refreshed.status_code == 200 and body_of(refreshed)["expiration_date"] == 221
        reused = post(http, "/contacts/refresh", None, {"Authorization": f"Bearer {tokens['refresh_token']}"})
        assert reused.status_code == 401  # refresh tokens rotate
        secret_login = post(
            http,
            "/contacts/authenticate",
            {"provider": "EMAIL", "username": seed.email, "password": seed.password},
            {"api_key": seed.secret_key},
        )
        assert secret_login.status_code == 401


def test_submit_get_and_contact_orders(http: httpx.Client, seed: DemoSeed, sandbox: CrmComSandbox) -> None:
    est = body_of(post(http, "/estimates/orders", estimate_body(seed, "USD", 5), secret(seed)))
    payments = [{"payment_method_type": "CASH"}]
    assert post(http, "/orders", {"estimation_id": est["id"], "payments": payments}, secret(seed)).status_code == 401
    auth = bearer(sandbox, seed)
    assert post(http, "/orders", {"estimation_id": est["id"], "payments": []}, auth).status_code == 400
    assert (
        post(
            http,
            "/orders",
            {"estimation_id": est["id"], "payments": payments},
            bearer(sandbox, seed, seed.other_contact_id),
        ).status_code
        == 404
    )
    created = post(http, "/orders", {"estimation_id": est["id"], "payments": payments}, auth)
    assert created.status_code == 201
    order_id = body_of(created)["id"]
    assert body_of(created)["number"] == "ORD000001"
    again = post(http, "/orders", {"estimation_id": est["id"], "payments": payments}, auth)
    assert again.status_code == 400 and body_of(again)["error"] == "ESTIMATION_SUBMITTED"
    reestimate = post(http, "/estimates/orders", estimate_body(seed, "USD", estimation_id=est["id"]), secret(seed))
    assert reestimate.status_code == 400
    # Self-Service documents Get Order and the contact's orders for the contact's Bearer only, not the secret key
    assert http.get(f"{SS}/orders/{order_id}", headers=secret(seed)).status_code == 401
    assert http.get(f"{SS}/contacts/{seed.contact_id}/orders", headers=secret(seed)).status_code == 401
    assert http.get(f"{BO}/orders/{order_id}", headers=secret(seed)).status_code == 200  # Backoffice [U]: it may
    order = body_of(http.get(f"{SS}/orders/{order_id}", headers=auth))
    assert order["total"] == Decimal("99.95") and order["state"] == "NEW" and order["currency_code"] == "USD"
    assert "milestones" not in order and "_milestone_plan" not in order  # no milestone fields on orders
    assert [p["amount"] for p in sandbox.order_milestone_plan(order_id)] == [
        Decimal("29.98"),  # 29.985 -> half-even
        Decimal("29.98"),
        Decimal("39.99"),  # the last absorbs: 99.95 - 59.96
    ]
    assert http.get(f"{SS}/orders/{order_id}", headers=bearer(sandbox, seed, seed.other_contact_id)).status_code == 404
    page = body_of(http.get(f"{SS}/contacts/{seed.contact_id}/orders", headers=auth))
    assert [o["id"] for o in page["content"]] == [order_id]
    # List items as documented (issue 18, point 3): `currency`, `submitted_date` and the current `stage`.
    listed = page["content"][0]
    assert (listed["currency"], listed["stage"]["name"]) == ("USD", "Deposit") and isinstance(
        listed["submitted_date"], int
    )
    assert not {"currency_code", "key_dates", "created_date"} & set(listed) and "stage" not in order
    assert page["paging"] == {"page": 1, "size": 10, "total": None, "has_more": False}
    assert (
        http.get(
            f"{SS}/contacts/{seed.contact_id}/orders", headers=bearer(sandbox, seed, seed.other_contact_id)
        ).status_code
        == 403
    )


def test_contact_order_paging(http: httpx.Client, seed: DemoSeed, sandbox: CrmComSandbox) -> None:
    auth = bearer(sandbox, seed)
    ids = []
    for _ in range(5):
        est = body_of(post(http, "/estimates/orders", estimate_body(seed, "JPY"), auth))
        ids.append(
            body_of(
                post(http, "/orders", {"estimation_id": est["id"], "payments": [{"payment_method_type": "CASH"}]}, auth)
            )["id"]
        )
    url = f"{SS}/contacts/{seed.contact_id}/orders"
    pages = [
        body_of(http.get(url, params={"page": p, "size": 2, "order": "ASC", "include_total": "true"}, headers=auth))
        for p in (1, 2, 3)
    ]
    assert [o["id"] for p in pages for o in p["content"]] == ids
    assert [p["paging"]["has_more"] for p in pages] == [True, True, False]
    assert {p["paging"]["total"] for p in pages} == {5}
    assert http.get(url, params={"size": 101}, headers=auth).status_code == 400
    assert http.get(url, params={"page": 0}, headers=auth).status_code == 400
    assert http.get(url, params={"order": "UP"}, headers=auth).status_code == 400
    assert http.get(f"{SS}/contacts/nobody/orders", headers=auth).status_code == 404


def test_unknown_paths_and_methods(http: httpx.Client, seed: DemoSeed) -> None:
    missing = http.get(f"{SS}/nothing", headers=secret(seed))
    assert missing.status_code == 404 and set(body_of(missing)) == {"status", "message", "error", "parameters"}
    assert http.delete(f"{SS}/orders/x", headers=secret(seed)).status_code == 405
    assert http.get("https://sandboxapi.crm.com/other/v1/orders/x").status_code == 404
    assert post(http, "/contacts/authenticate", {}, {"api_key": seed.public_key}, base=BO).status_code == 404


def test_faults_use_the_crm_error_body(seed: DemoSeed) -> None:
    sandbox = CrmComSandbox(faults=FaultPlan(seed=1).rate_limit(retry_after=2, times=1).status(503, times=1))
    sandbox.seed_demo()
    with sandbox.http_client() as http:
        limited = http.get(f"{SS}/orders/x", headers=secret(seed))
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
        assert body_of(limited)["error"] == "TOO_MANY_REQUESTS"
        failed = http.get(f"{SS}/orders/x", headers=secret(seed))
        assert failed.status_code == 503 and body_of(failed)["status"] == 503


def test_seeded_ids_are_repeatable() -> None:
    assert CrmComSandbox(seed=3).seed_demo() == CrmComSandbox(seed=3).seed_demo()
    assert CrmComSandbox(seed=3).seed_demo() != CrmComSandbox(seed=4).seed_demo()


def test_demo_queues_cover_the_currencies(http: httpx.Client, seed: DemoSeed) -> None:
    for currency, total in (("EUR", "1469.13"), ("USD", "19.99"), ("JPY", "13579"), ("KWD", "10.005")):
        body = body_of(
            post(http, "/estimates/orders", estimate_body(seed, currency, queue_id=seed.queues["thirds"]), secret(seed))
        )
        amounts = [p["amount"] for p in body["milestone_plan_estimate"]]
        assert body["invoice_estimate"]["total"] == Decimal(total) and sum(amounts) == Decimal(total)
    none = body_of(
        post(http, "/estimates/orders", estimate_body(seed, queue_id=seed.queues["no_milestones"]), secret(seed))
    )
    assert none["milestone_plan_estimate"] == []


def test_asgi_app_over_loopback(sandbox: CrmComSandbox, seed: DemoSeed) -> None:
    with LoopbackServer(sandbox.asgi_app()) as server, httpx.Client(base_url=server.url) as http:
        response = http.post(
            "/self-service/v2/estimates/orders",
            content=dumps(estimate_body(seed, "KWD", 3)),
            headers={"Content-Type": "application/json", **secret(seed)},
        )
        assert response.status_code == 200
        assert body_of(response)["invoice_estimate"]["total"] == Decimal("30.015")
        assert http.get("/self-service/v2/orders/x").status_code == 401
