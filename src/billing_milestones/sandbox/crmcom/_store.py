"""The crm.com emulator's tenant state: queues and their stages, products, contacts, tokens, estimations, orders.

Also who is calling (:meth:`_Store._principal`: a contact's Bearer token or the business's secret ``api_key``) and
crm.com's error shape, which every part of the emulator answers with.
"""

from __future__ import annotations

import random
import time
import uuid
from abc import abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import httpx
from iso4217 import Currency

from .._emulator import Emulator, Router, SandboxRequest, json_response
from .._faults import FaultPlan
from .._limits import RateLimit

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_PUBLIC_KEY",
    "DEMO_SECRET_KEY",
    "SandboxContact",
    "SandboxProduct",
    "SandboxQueue",
    "SandboxStage",
    "error_body",
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


class _Store(Emulator):
    """One tenant's state, and the credentials it accepts."""

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
        self._router = self._routes()

    @abstractmethod
    def _routes(self) -> Router:
        """The route table (``_routes``), built once the state exists."""

    # -- ids and tokens ---------------------------------------------------------------------------------
    def new_id(self) -> str:
        """A UUID string from the seeded generator, so seeded runs are repeatable."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def issue_token(self, contact_id: str, *, ttl: float | None = None) -> tuple[str, str, int]:
        """Tokens for a contact without a login call: ``(access, refresh, expiration epoch)``."""
        access, refresh = f"at_{self.new_id()}", f"rt_{self.new_id()}"
        expires = int(self.clock() + (self.token_ttl if ttl is None else ttl))
        with self.lock:
            self._access[access] = _Token(contact_id, expires)
            self._refresh[refresh] = contact_id
        return access, refresh, expires

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
