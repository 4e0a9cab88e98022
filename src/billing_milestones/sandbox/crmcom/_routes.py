"""The crm.com emulator's route table, pipeline hooks, contact authentication and orders.

Self-Service v2 and Backoffice v2 (assumed to mirror it) share the routes; Submit Order, Get Order and contact
orders (``{content, paging}``) take a contact Bearer only on Self-Service, as its description says (Backoffice
also takes the secret ``api_key``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import httpx

from .._emulator import Router, SandboxRequest, json_response
from .._faults import Fault, FaultKind
from .._limits import Throttle
from ._estimates import _Estimates
from ._store import _APIS, _json_object, _Refused, error_body


class _Routes(_Estimates):
    """Routes every request; the estimate handler comes from :class:`_Estimates`."""

    def _routes(self) -> Router:
        router = Router()
        for method, template, handler in (
            ("POST", "/estimates/orders", self._estimate),
            ("POST", "/orders", self._submit),
            ("GET", "/orders/{id}", self._get_order),
            ("GET", "/contacts/{id}/orders", self._contact_orders),
            ("POST", "/contacts/authenticate", self._authenticate),
            ("POST", "/contacts/refresh", self._refresh_token),
        ):
            router.add(method, template, handler)
        return router

    def handle(self, request: SandboxRequest) -> httpx.Response:
        for prefix, api in _APIS.items():
            if request.path == prefix or request.path.startswith(prefix + "/"):
                inner = request.path[len(prefix) :] or "/"
                if api == "backoffice" and inner.startswith("/contacts/") and not inner.endswith("/orders"):
                    return self._not_found(request)
                scoped = SandboxRequest(
                    method=request.method,
                    url=request.url,
                    path=inner,
                    query=request.query,
                    headers=request.headers,
                    body=request.body,
                    origin=request.origin,
                )
                self._api = api  # handle() runs under self.lock, so this is per request
                try:
                    return self._router.dispatch(scoped, not_found=self._not_found, not_allowed=self._not_allowed)
                except _Refused as refused:
                    return error_body(refused.status, refused.message, refused.error, refused.parameters)
        return self._not_found(request)

    def fault_response(self, fault: Fault) -> httpx.Response:
        if fault.kind is FaultKind.RATE_LIMIT:
            response = error_body(429, "Too many requests", "TOO_MANY_REQUESTS")
            if fault.retry_after is not None:
                response.headers["Retry-After"] = str(fault.retry_after)
            return response
        status = fault.status or 500
        return error_body(status, "Internal server error (injected)", "INTERNAL_SERVER_ERROR")

    def throttled_response(self, throttle: Throttle) -> httpx.Response:
        response = error_body(429, f"Too many requests ({throttle.reason})", "TOO_MANY_REQUESTS")
        if self._send_retry_after():
            response.headers["Retry-After"] = f"{throttle.retry_after:.3f}"
        return response

    @staticmethod
    def _not_found(request: SandboxRequest) -> httpx.Response:
        return error_body(404, f"No resource at {request.method} {request.url.path}", "NOT_FOUND")

    @staticmethod
    def _not_allowed(request: SandboxRequest) -> httpx.Response:
        return error_body(405, f"Method {request.method} not allowed on {request.url.path}", "METHOD_NOT_ALLOWED")

    # -- auth -----------------------------------------------------------------------------------------
    def _authenticate(self, request: SandboxRequest) -> httpx.Response:
        key = request.headers.get("api_key")
        if key is None or key not in self.public_keys:
            raise _Refused(401, "Contact authentication needs the public API key in api_key", "UNAUTHORIZED")
        body = _json_object(request)
        provider = body.get("provider")
        if provider != "EMAIL":
            raise _Refused(
                400,
                f"Unsupported provider {provider!r} in the sandbox (EMAIL only)",
                "INVALID_PROVIDER",
                {"field": "provider"},
            )
        login = str(body.get("username") or body.get("email") or "").lower()
        contact = next((c for c in self.contacts.values() if c.email == login), None)
        if contact is None or body.get("password") != contact.password:
            raise _Refused(401, "Invalid credentials", "INVALID_CREDENTIALS")
        return self._token_response(contact.id)

    def _refresh_token(self, request: SandboxRequest) -> httpx.Response:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else None
        if token is None or token not in self._refresh:
            body = _json_object(request, required=False)
            token = body.get("refresh_token") if isinstance(body.get("refresh_token"), str) else None
        contact_id = self._refresh.pop(token or "", None)
        if contact_id is None:
            raise _Refused(401, "Invalid refresh token", "UNAUTHORIZED")
        return self._token_response(contact_id)

    def _token_response(self, contact_id: str) -> httpx.Response:
        """As documented: the contact as ``contact: {id, first_name, last_name}``, no top-level ``contact_id``."""
        access, refresh, expires = self.issue_token(contact_id)
        first, _, last = (self.contacts[contact_id].name if contact_id in self.contacts else "").partition(" ")
        contact = {"id": contact_id, "first_name": first, "last_name": last}
        body = {"access_token": access, "refresh_token": refresh, "expiration_date": expires, "contact": contact}
        return json_response(200, body)

    # -- orders ---------------------------------------------------------------------------------------
    def _submit(self, request: SandboxRequest) -> httpx.Response:
        principal = self._principal(request, bearer_only=True)
        body = _json_object(request)
        estimation_id = body.get("estimation_id")
        if not isinstance(estimation_id, str) or not estimation_id:
            raise _Refused(400, "estimation_id is required", "MISSING_PARAMETER", {"field": "estimation_id"})
        payments = body.get("payments")
        if not isinstance(payments, list) or not payments:
            raise _Refused(400, "payments is required (at least one)", "MISSING_PARAMETER", {"field": "payments"})
        for i, p in enumerate(payments):
            if not isinstance(p, dict) or not isinstance(p.get("payment_method_type"), str):
                raise _Refused(
                    400,
                    f"payments[{i}].payment_method_type is required",
                    "MISSING_PARAMETER",
                    {"field": f"payments[{i}]"},
                )
        estimation = self.estimations.get(estimation_id)
        contact = self.contacts[principal.contact_id or ""]
        if estimation is None or estimation.account_id != contact.account_id:
            raise _Refused(404, f"Estimation {estimation_id} not found", "NOT_FOUND", {"field": "estimation_id"})
        if estimation.submitted:
            raise _Refused(400, "The estimation was already submitted as an order", "ESTIMATION_SUBMITTED")
        estimation.submitted = True
        self._order_seq += 1
        order_id = self.new_id()
        invoice = estimation.response["invoice_estimate"]
        first_stage = sorted(estimation.queue.stages, key=lambda s: s.priority)[0]
        now = int(self.clock())
        self.orders[order_id] = {
            "id": order_id,
            "number": f"ORD{self._order_seq:06d}",
            "state": "NEW",
            "_stage": {"id": first_stage.id, "name": first_stage.name},  # listed orders only, as documented
            "total": invoice["total"],
            "amount_due": invoice["amount_due"],
            "currency_code": estimation.currency,
            "default_currency_code": estimation.currency,
            "total_default_currency": invoice["total"],
            "exchange_rate": Decimal(1),
            "sub_total": invoice["net"],
            "net_amount": invoice["net"],
            "tax_amount": invoice["tax"],
            "discount": {"amount": invoice["discount"], "amount_incl_tax": invoice["discount_incl_tax"]},
            "key_dates": {"submitted_on": now},
            "_contact_id": contact.id,
            "_seq": self._order_seq,
            "_milestone_plan": estimation.plan,
        }
        created = {
            "id": order_id,
            "number": self.orders[order_id]["number"],
            "fulfilled_by": {"id": "merchant-sandbox", "name": "Sandbox merchant"},
        }
        return json_response(201, created)

    @staticmethod
    def _public(order: Mapping[str, Any], *, listed: bool = False) -> dict[str, Any]:
        """Get Order's fields; a list item instead has ``currency``, ``submitted_date`` and ``stage`` (documented)."""
        out = {k: v for k, v in order.items() if not k.startswith("_")}
        if listed:
            out.update(currency=out.pop("currency_code"), submitted_date=out.pop("key_dates")["submitted_on"])
            out["stage"] = order["_stage"]
        return out

    def _get_order(self, request: SandboxRequest) -> httpx.Response:
        principal = self._principal(request, bearer_only=self._api == "self-service")  # as documented
        order = self.orders.get(request.params["id"])
        if order is None or (principal.contact_id is not None and order["_contact_id"] != principal.contact_id):
            raise _Refused(404, f"Order {request.params['id']} not found", "NOT_FOUND")
        return json_response(200, self._public(order))

    def _contact_orders(self, request: SandboxRequest) -> httpx.Response:
        principal = self._principal(request, bearer_only=self._api == "self-service")  # as documented
        contact_id = request.params["id"]
        if contact_id not in self.contacts:
            raise _Refused(404, f"Contact {contact_id} not found", "NOT_FOUND")
        if principal.contact_id is not None and principal.contact_id != contact_id:
            raise _Refused(403, "A contact may only list their own orders", "FORBIDDEN")
        page = _int_param(request.query, "page", 1, minimum=1)
        size = _int_param(request.query, "size", 10, minimum=0, maximum=100)
        direction = request.query.get("order", "DESC")
        if direction not in ("ASC", "DESC"):
            raise _Refused(400, "order must be ASC or DESC", "INVALID_PARAMETER", {"field": "order"})
        sort = request.query.get("sort", "CREATED_DATE")
        if sort != "CREATED_DATE":
            raise _Refused(400, f"Unsupported sort {sort!r} in the sandbox", "INVALID_PARAMETER", {"field": "sort"})
        mine = sorted(
            (o for o in self.orders.values() if o["_contact_id"] == contact_id),
            key=lambda o: (o["key_dates"]["submitted_on"], o["_seq"]),
            reverse=direction == "DESC",
        )
        start = (page - 1) * size
        content = mine[start : start + size] if size else []
        include_total = request.query.get("include_total", "false").lower() == "true"
        paging = {
            "page": page,
            "size": size,
            "total": min(len(mine), 10_000) if include_total else None,
            "has_more": bool(size) and start + size < len(mine),
        }
        return json_response(200, {"content": [self._public(o, listed=True) for o in content], "paging": paging})


def _int_param(query: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _Refused(400, f"{name} must be an integer", "INVALID_PARAMETER", {"field": name}) from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"{minimum}..{maximum}" if maximum is not None else f">= {minimum}"
        raise _Refused(400, f"{name} must be {bound}", "INVALID_PARAMETER", {"field": name})
    return value
