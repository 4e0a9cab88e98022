"""In-memory crm.com (Self-Service v2, and Backoffice v2 assumed to mirror it) for order estimates and milestones.

What it follows: order queues whose stages carry milestone settings (``queue_percentage``); estimates computed
as amount = total x percentage / 100 (percentage falling back to ``queue_percentage`` when no milestones are
sent), in exact Decimal quantised to the currency exponent half-even, the last milestone absorbing the rounding
when the set covers the whole total; the milestone rules enforced with 400 ``{status, message, error,
parameters}``; reusable estimation ids; Submit Order, Get Order and contact orders (``{content, paging}``) for a
contact Bearer only on Self-Service, as its description says (Backoffice also takes the secret ``api_key``).

Its computations are written independently of the client's adapter and rules on purpose, so the tests compare
two implementations rather than one with itself.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, ClassVar, Final

import httpx
from iso4217 import Currency

from ._emulator import Emulator, Router, SandboxRequest, json_response
from ._faults import Fault, FaultKind, FaultPlan
from ._limits import RateLimit, Throttle

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_PUBLIC_KEY",
    "DEMO_SECRET_KEY",
    "CrmComSandbox",
    "DemoSeed",
    "SandboxContact",
    "SandboxProduct",
    "SandboxQueue",
    "SandboxStage",
]

DEMO_SECRET_KEY: Final = "sk_sandbox_crmcom_secret"
DEMO_PUBLIC_KEY: Final = "pk_sandbox_crmcom_public"
DEMO_PASSWORD: Final = "correct horse battery"

_APIS: Final = {"/self-service/v2": "self-service", "/backoffice/v2": "backoffice"}
_HUNDRED: Final = Decimal(100)
_EXPONENTS: Final = {c.code: c.exponent for c in Currency}


class _Refused(Exception):
    """Raised inside a handler to answer with a crm.com error body."""

    def __init__(self, status: int, message: str, error: str, parameters: Any = None) -> None:
        super().__init__(message)
        self.status, self.message, self.error, self.parameters = status, message, error, parameters


def error_body(status: int, message: str, error: str, parameters: Any = None) -> httpx.Response:
    """crm.com's observed error shape: ``{status, message, error, parameters}``."""
    return json_response(status, {"status": status, "message": message, "error": error, "parameters": parameters})


@dataclass
class SandboxStage:
    id: str
    name: str
    colour: str
    priority: int
    #: The stage's invoice-milestone setting; None: no milestone may sit on this stage.
    milestone_percentage: Decimal | None = None

    def wire(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "colour": self.colour, "priority": self.priority}


@dataclass
class SandboxQueue:
    id: str
    name: str
    stages: list[SandboxStage]

    def stage(self, stage_id: str) -> SandboxStage | None:
        return next((s for s in self.stages if s.id == stage_id), None)

    def milestone_stages(self) -> list[SandboxStage]:
        return sorted((s for s in self.stages if s.milestone_percentage is not None), key=lambda s: s.priority)


@dataclass
class SandboxProduct:
    id: str
    name: str
    price: Decimal
    currency: str
    #: Tax as a percentage of the line's net amount.
    tax_rate: Decimal = Decimal(0)


@dataclass
class SandboxContact:
    id: str
    email: str
    password: str
    account_id: str
    name: str


@dataclass
class _Estimation:
    id: str
    account_id: str
    queue: SandboxQueue
    currency: str
    total: Decimal
    response: dict[str, Any]
    plan: list[dict[str, Any]]
    submitted: bool = False


@dataclass
class _Token:
    contact_id: str
    expires_at: float


@dataclass(frozen=True)
class _Principal:
    contact_id: str | None  # None: the secret key


@dataclass(frozen=True)
class DemoSeed:
    """Ids created by :meth:`CrmComSandbox.seed_demo`."""

    secret_key: str
    public_key: str
    contact_id: str
    account_id: str
    other_contact_id: str
    other_account_id: str
    email: str
    password: str
    queues: Mapping[str, str]
    stages: Mapping[str, list[str]]
    products: Mapping[str, str]


class CrmComSandbox(Emulator):
    """An emulated crm.com tenant. Reach it with ``http_client()``, ``async_http_client()`` or ``asgi_app()``.

    >>> sandbox = CrmComSandbox(); seed = sandbox.seed_demo()
    >>> client = CrmComClient(seed.secret_key, http_client=sandbox.http_client())
    """

    platform: ClassVar[str] = "crmcom"
    base_path: ClassVar[str] = ""

    def __init__(
        self,
        *,
        faults: FaultPlan | None = None,
        rate_limit: RateLimit | None = None,
        secret_keys: Sequence[str] = (DEMO_SECRET_KEY,),
        public_keys: Sequence[str] = (DEMO_PUBLIC_KEY,),
        token_ttl: int = 3600,
        clock: Callable[[], float] = time.time,
        seed: int = 0,
    ) -> None:
        super().__init__(faults=faults, rate_limit=rate_limit)
        self.secret_keys = set(secret_keys)
        self.public_keys = set(public_keys)
        self.token_ttl = token_ttl
        self.clock = clock
        self._rng = random.Random(seed)
        self.queues: dict[str, SandboxQueue] = {}
        self.default_queue_id: str | None = None
        self.products: dict[str, SandboxProduct] = {}
        self.contacts: dict[str, SandboxContact] = {}
        self.estimations: dict[str, _Estimation] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self._access: dict[str, _Token] = {}
        self._refresh: dict[str, str] = {}
        self._order_seq = 0
        self._api = "self-service"
        self._router = Router()
        for method, template, handler in (
            ("POST", "/estimates/orders", self._estimate),
            ("POST", "/orders", self._submit),
            ("GET", "/orders/{id}", self._get_order),
            ("GET", "/contacts/{id}/orders", self._contact_orders),
            ("POST", "/contacts/authenticate", self._authenticate),
            ("POST", "/contacts/refresh", self._refresh_token),
        ):
            self._router.add(method, template, handler)

    # -- seeding --------------------------------------------------------------------------------------
    def new_id(self) -> str:
        """A UUID string from the seeded generator, so seeded runs are repeatable."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def add_queue(
        self,
        name: str,
        stages: Sequence[tuple[str, Decimal | str | int | None]],
        *,
        queue_id: str | None = None,
        default: bool = False,
        colours: Sequence[str] = ("#2F80ED", "#F2994A", "#27AE60", "#EB5757", "#9B51E0"),
    ) -> SandboxQueue:
        """An order queue: ``stages`` are ``(name, milestone percentage or None)`` in priority order."""
        built = [
            SandboxStage(
                id=self.new_id(),
                name=stage_name,
                colour=colours[i % len(colours)],
                priority=i + 1,
                milestone_percentage=None if pct is None else Decimal(str(pct)),
            )
            for i, (stage_name, pct) in enumerate(stages)
        ]
        queue = SandboxQueue(id=queue_id or self.new_id(), name=name, stages=built)
        with self.lock:
            self.queues[queue.id] = queue
            if default or self.default_queue_id is None:
                self.default_queue_id = queue.id
        return queue

    def add_product(
        self,
        name: str,
        price: Decimal | str | int,
        currency: str,
        *,
        product_id: str | None = None,
        tax_rate: Decimal | str | int = 0,
    ) -> SandboxProduct:
        code = currency.upper()
        if _EXPONENTS.get(code) is None:
            raise ValueError(f"{currency!r} is not an ISO 4217 currency with minor units")
        product = SandboxProduct(
            id=product_id or self.new_id(),
            name=name,
            price=Decimal(str(price)),
            currency=code,
            tax_rate=Decimal(str(tax_rate)),
        )
        with self.lock:
            self.products[product.id] = product
        return product

    def add_contact(
        self,
        email: str,
        password: str = DEMO_PASSWORD,
        *,
        name: str | None = None,
        contact_id: str | None = None,
        account_id: str | None = None,
    ) -> SandboxContact:
        contact = SandboxContact(
            id=contact_id or self.new_id(),
            email=email.lower(),
            password=password,
            account_id=account_id or self.new_id(),
            name=name or email.split("@")[0],
        )
        with self.lock:
            self.contacts[contact.id] = contact
        return contact

    def issue_token(self, contact_id: str, *, ttl: float | None = None) -> tuple[str, str, int]:
        """Tokens for a contact without a login call: ``(access, refresh, expiration epoch)``."""
        access, refresh = f"at_{self.new_id()}", f"rt_{self.new_id()}"
        expires = int(self.clock() + (self.token_ttl if ttl is None else ttl))
        with self.lock:
            self._access[access] = _Token(contact_id, expires)
            self._refresh[refresh] = contact_id
        return access, refresh, expires

    def seed_demo(self) -> DemoSeed:
        """Queues that stress rounding, products in EUR, USD, JPY and KWD, and two contacts."""
        standard = self.add_queue(
            "Standard delivery",
            [("Deposit", 30), ("In Progress", 30), ("Completed", 40), ("Cancelled", None)],
            default=True,
        )
        thirds = self.add_queue("Thirds", [("Signed", "33.33"), ("Built", "33.33"), ("Delivered", "33.34")])
        no_ms = self.add_queue("No milestones", [("New", None), ("Completed", None)])
        products = {
            "EUR": self.add_product("Consulting day", "1234.56", "EUR", tax_rate=19),
            "USD": self.add_product("Widget", "19.99", "USD"),
            "JPY": self.add_product("Tea set", 12345, "JPY", tax_rate=10),
            "KWD": self.add_product("Service plan", "10.005", "KWD"),
        }
        ada = self.add_contact("ada@example.com", DEMO_PASSWORD, name="Ada Lovelace")
        bob = self.add_contact("bob@example.com", DEMO_PASSWORD, name="Bob Babbage")
        queues = {"standard": standard, "thirds": thirds, "no_milestones": no_ms}
        return DemoSeed(
            secret_key=next(iter(sorted(self.secret_keys))),
            public_key=next(iter(sorted(self.public_keys))),
            contact_id=ada.id,
            account_id=ada.account_id,
            other_contact_id=bob.id,
            other_account_id=bob.account_id,
            email=ada.email,
            password=DEMO_PASSWORD,
            queues={k: q.id for k, q in queues.items()},
            stages={k: [s.id for s in q.stages] for k, q in queues.items()},
            products={k: p.id for k, p in products.items()},
        )

    # -- pipeline hooks -------------------------------------------------------------------------------
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
    def _principal(self, request: SandboxRequest, *, bearer_only: bool = False) -> _Principal:
        """Who is calling: a contact (Bearer token) or the business (secret ``api_key``); 401 otherwise."""
        api = self._api
        header = request.headers.get("authorization")
        if header:
            token = header[7:].strip() if header.lower().startswith("bearer ") else None
            if token is None and api == "backoffice":
                token = header.strip()  # the Backoffice client seen in the wild sends the raw token
            found = self._access.get(token or "")
            if found is None:
                raise _Refused(401, "Invalid access token", "UNAUTHORIZED")
            if self.clock() >= found.expires_at:
                raise _Refused(401, "Access token expired", "TOKEN_EXPIRED")
            return _Principal(found.contact_id)
        if bearer_only:
            raise _Refused(401, "This operation needs a contact access token (Authorization: Bearer)", "UNAUTHORIZED")
        key = request.headers.get("api_key")
        if key is not None and key in self.secret_keys:
            return _Principal(None)
        if key is not None and key in self.public_keys:
            raise _Refused(401, "A public API key cannot call this operation; use the secret key", "UNAUTHORIZED")
        raise _Refused(401, "Missing or invalid credentials", "UNAUTHORIZED")

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

    # -- estimates ------------------------------------------------------------------------------------
    def _estimate(self, request: SandboxRequest) -> httpx.Response:
        principal = self._principal(request)
        body = _json_object(request)
        for name in ("account_id", "supply_method", "delivery_method", "payment_method_type"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise _Refused(400, f"{name} is required", "MISSING_PARAMETER", {"field": name})
        account_id = body["account_id"]
        owner = next((c for c in self.contacts.values() if c.account_id == account_id), None)
        if owner is None:
            raise _Refused(404, f"Account {account_id} not found", "NOT_FOUND", {"field": "account_id"})
        if principal.contact_id is not None and principal.contact_id != owner.id:
            raise _Refused(403, "The account does not belong to the authenticated contact", "FORBIDDEN")
        currency, net, tax = self._price_items(body.get("items"))
        total = net + tax
        queue = self._queue_for(body.get("queue_id"))
        estimation_id = body.get("estimation_id")
        if estimation_id is not None:
            previous = self.estimations.get(estimation_id) if isinstance(estimation_id, str) else None
            if previous is None:
                raise _Refused(404, f"Estimation {estimation_id} not found", "NOT_FOUND", {"field": "estimation_id"})
            if previous.account_id != account_id:
                raise _Refused(400, "The estimation belongs to another account", "INVALID_ESTIMATION")
            if previous.submitted:
                raise _Refused(400, "The estimation was already submitted as an order", "ESTIMATION_SUBMITTED")
        else:
            estimation_id = self.new_id()
        if "milestones" in body and body["milestones"] is not None:
            plan = self._explicit_plan(body["milestones"], queue, total, currency)
        else:
            plan = self._default_plan(queue, total, currency)
        exp = _exponent(currency)
        invoice = {
            "currency_code": currency,
            "net": net,
            "discount": _q(Decimal(0), exp),
            "discount_incl_tax": _q(Decimal(0), exp),
            "tax": tax,
            "total": total,
            "amount_due": total,
            "amount_to_collect": total,
            "total_price": total,
            "wallet_funds_amount": _q(Decimal(0), exp),
            "account_credit": _q(Decimal(0), exp),
        }
        summary = {
            "queue": {"id": queue.id, "name": queue.name},
            "fulfilled_by": {"id": "merchant-sandbox", "name": "Sandbox merchant"},
            "ordering_allowed": True,
        }
        response = {
            "id": estimation_id,
            "order_estimate": summary,
            "milestone_plan_estimate": plan,
            "invoice_estimate": invoice,
            "orders": [{"order_estimate": summary, "invoice_estimate": invoice, "milestone_plan_estimate": plan}],
        }
        self.estimations[estimation_id] = _Estimation(estimation_id, account_id, queue, currency, total, response, plan)
        return json_response(200, response)

    def _price_items(self, items: Any) -> tuple[str, Decimal, Decimal]:
        if not isinstance(items, list) or not items:
            raise _Refused(400, "items is required (at least one)", "MISSING_PARAMETER", {"field": "items"})
        currency: str | None = None
        net = tax = Decimal(0)
        for i, item in enumerate(items):
            where = f"items[{i}]"
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise _Refused(400, f"{where}.id is required", "MISSING_PARAMETER", {"field": f"{where}.id"})
            product = self.products.get(item["id"])
            if product is None:
                raise _Refused(404, f"Product {item['id']} not found", "NOT_FOUND", {"field": f"{where}.id"})
            quantity = item.get("quantity", 1)
            if not _is_number(quantity) or quantity <= 0:
                raise _Refused(
                    400, f"{where}.quantity must be positive", "INVALID_PARAMETER", {"field": f"{where}.quantity"}
                )
            price = item.get("price", product.price)
            if not _is_number(price) or price < 0:
                raise _Refused(
                    400,
                    f"{where}.price must be a non-negative number",
                    "INVALID_PARAMETER",
                    {"field": f"{where}.price"},
                )
            if currency is not None and product.currency != currency:
                raise _Refused(
                    400, "All items of an order must share one currency", "CURRENCY_MISMATCH", {"field": where}
                )
            currency = product.currency
            exp = _exponent(currency)
            line = _q(Decimal(price) * Decimal(quantity), exp)
            net += line
            tax += _q(line * product.tax_rate / _HUNDRED, exp)
        assert currency is not None
        exp = _exponent(currency)
        return currency, _q(net, exp), _q(tax, exp)

    def _queue_for(self, queue_id: Any) -> SandboxQueue:
        if queue_id is None:
            if self.default_queue_id is None:
                raise _Refused(400, "No order queue is configured", "NO_QUEUE")
            return self.queues[self.default_queue_id]
        queue = self.queues.get(queue_id) if isinstance(queue_id, str) else None
        if queue is None:
            raise _Refused(404, f"Order queue {queue_id} not found", "NOT_FOUND", {"field": "queue_id"})
        return queue

    def _default_plan(self, queue: SandboxQueue, total: Decimal, currency: str) -> list[dict[str, Any]]:
        stages = queue.milestone_stages()
        pcts = [s.milestone_percentage or Decimal(0) for s in stages]
        amounts = _split(total, [(None, p) for p in pcts], _exponent(currency))
        return [
            {"stage": s.wire(), "queue_percentage": s.milestone_percentage, "percentage": None, "amount": a}
            for s, a in zip(stages, amounts, strict=True)
        ]

    def _explicit_plan(
        self, milestones: Any, queue: SandboxQueue, total: Decimal, currency: str
    ) -> list[dict[str, Any]]:
        """Validate a sent milestone set the way crm.com's prose describes, then price it."""
        if not isinstance(milestones, list):
            raise _Refused(400, "milestones must be an array", "INVALID_MILESTONES", {"field": "milestones"})
        exp = _exponent(currency)
        seen: set[str] = set()
        entries: list[tuple[Decimal | None, Decimal | None]] = []
        stages: list[SandboxStage] = []
        for i, m in enumerate(milestones):
            where = f"milestones[{i}]"
            if not isinstance(m, dict):
                raise _Refused(400, f"{where} must be an object", "INVALID_MILESTONES", {"field": where, "index": i})
            stage_id = m.get("stage_id")
            params = {"field": f"{where}.stage_id", "index": i, "stage_id": stage_id}
            if not isinstance(stage_id, str) or not stage_id:
                raise _Refused(400, f"{where}: stage_id is required", "INVALID_MILESTONES", params)
            stage = queue.stage(stage_id)
            if stage is None or stage.milestone_percentage is None:
                raise _Refused(
                    400,
                    f"{where}: stage {stage_id} is not a milestone stage of queue {queue.name}",
                    "INVALID_MILESTONE_STAGE",
                    params,
                )
            if stage_id in seen:
                raise _Refused(
                    400, f"{where}: stage {stage_id} has more than one milestone", "DUPLICATE_MILESTONE_STAGE", params
                )
            seen.add(stage_id)
            pct, amount = m.get("percentage"), m.get("amount")
            params = {"field": where, "index": i, "stage_id": stage_id}
            if pct is not None and amount is not None:
                raise _Refused(400, f"{where}: set either percentage or amount, not both", "INVALID_MILESTONES", params)
            if pct is None and amount is None:
                raise _Refused(400, f"{where}: percentage or amount is required", "INVALID_MILESTONES", params)
            value = pct if pct is not None else amount
            name = "percentage" if pct is not None else "amount"
            params = {"field": f"{where}.{name}", "index": i, "stage_id": stage_id}
            if value is None or not _is_number(value):
                raise _Refused(400, f"{where}: {name} must be a number", "INVALID_MILESTONES", params)
            if Decimal(value) < 0:
                raise _Refused(400, f"{where}: {name} must not be negative", "INVALID_MILESTONES", params)
            if amount is not None and Decimal(amount) != _q(Decimal(amount), exp):
                raise _Refused(
                    400,
                    f"{where}: amount {amount} has more decimals than {currency} allows",
                    "INVALID_MILESTONES",
                    params,
                )
            entries.append((Decimal(amount) if amount is not None else None, Decimal(pct) if pct is not None else None))
            stages.append(stage)
        pct_sum = sum((p for _, p in entries if p is not None), Decimal(0))
        if pct_sum > _HUNDRED:
            raise _Refused(
                400, f"Milestone percentages sum to {pct_sum}, above 100", "INVALID_MILESTONES", {"field": "milestones"}
            )
        committed = sum((a if a is not None else total * (p or 0) / _HUNDRED for a, p in entries), Decimal(0))
        if committed > total:
            raise _Refused(
                400,
                f"Milestone amounts sum to {committed}, above the order total {total}",
                "MILESTONES_EXCEED_TOTAL",
                {"field": "milestones"},
            )
        amounts = _split(total, entries, exp)
        return [
            {"stage": s.wire(), "queue_percentage": s.milestone_percentage, "percentage": p, "amount": a}
            for s, (_, p), a in zip(stages, entries, amounts, strict=True)
        ]

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

    def order_milestone_plan(self, order_id: str) -> list[dict[str, Any]]:
        """The plan an order was submitted with (crm.com documents no API that returns it)."""
        return list(self.orders[order_id]["_milestone_plan"])

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


# -- helpers --------------------------------------------------------------------------------------------
def _json_object(request: SandboxRequest, *, required: bool = True) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError:
        raise _Refused(400, "The request body is not valid JSON", "INVALID_JSON") from None
    if body is None and not required:
        return {}
    if not isinstance(body, dict):
        raise _Refused(400, "The request body must be a JSON object", "INVALID_JSON")
    return body


def _is_number(value: Any) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def _exponent(currency: str) -> int:
    exp = _EXPONENTS.get(currency)
    return 2 if exp is None else int(exp)


def _q(value: Decimal, exponent: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_EVEN)


def _split(total: Decimal, entries: Sequence[tuple[Decimal | None, Decimal | None]], exponent: int) -> list[Decimal]:
    """Each (amount, percentage) entry priced: amounts as given, percentages as total x pct / 100 half-even.

    When the exact values of the whole set add up to the total, the last percentage entry absorbs the rounding,
    so the plan sums to the order total to the minor unit.
    """
    exact = [a if a is not None else total * (p or Decimal(0)) / _HUNDRED for a, p in entries]
    rounded = [_q(a, exponent) if a is not None else _q(e, exponent) for (a, _), e in zip(entries, exact, strict=True)]
    pct_positions = [i for i, (a, _) in enumerate(entries) if a is None]
    if pct_positions and sum(exact, Decimal(0)) == total:
        last = pct_positions[-1]
        rounded[last] = _q(total - sum((r for i, r in enumerate(rounded) if i != last), Decimal(0)), exponent)
    return rounded


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
