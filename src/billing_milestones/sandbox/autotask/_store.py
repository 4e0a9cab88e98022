"""The Autotask emulator's tenant state and record rules: what a ContractMilestone may hold, whatever the route.

The routes (``_routes``, ``_reads``) and the seeding helpers (``_seed``) work on this state; the checks here are the
ones the service applies to every create and update (required fields, lengths, the status picklist, one
initial-payment milestone per status, Milestone-type billing codes), so a seeded record and a written one obey
the same rules only where Autotask's own billing would not bypass them.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from abc import abstractmethod
from collections import deque
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar, Final

import httpx

from .._emulator import Emulator, Router, SandboxRequest, json_response
from .._faults import FaultPlan
from .._limits import RateLimit
from ._query import Refusal as _Refusal
from ._query import parse_datetime as _parse_datetime
from ._table import MilestoneTable

__all__ = ["CONTRACT_TYPE_FIXED_PRICE", "PAGE_SIZE", "STATUS_BILLED", "STATUS_NOT_READY", "STATUS_READY"]

STATUS_NOT_READY: Final = 1
STATUS_READY: Final = 2
STATUS_BILLED: Final = 3
#: Contract.contractType for Fixed Price ([U]: one source plus the docs' labels).
CONTRACT_TYPE_FIXED_PRICE: Final = 3
_STATUS_LABELS: Final = {STATUS_NOT_READY: "Not Ready to Bill", STATUS_READY: "Ready to Bill", STATUS_BILLED: "Billed"}
_READ_ONLY: Final = frozenset({"id", "internalCurrencyAmount", "createDate", "creatorResourceID"})
_WRITABLE: Final = (
    "title",
    "description",
    "amount",
    "dateDue",
    "status",
    "isInitialPayment",
    "billingCodeID",
    "organizationalLevelAssociationID",
)
_FIELD_ORDER: Final = (
    "id",
    "amount",
    "billingCodeID",
    "contractID",
    "createDate",
    "creatorResourceID",
    "dateDue",
    "description",
    "internalCurrencyAmount",
    "isInitialPayment",
    "organizationalLevelAssociationID",
    "status",
    "title",
)
PAGE_SIZE: Final = 500
_CONTRACT_FIELDS: Final = ("id", "billToCompanyID", "companyID", "contractName", "contractType", "status")
_CURRENCY_FIELDS: Final = (
    "id",
    "currencyNegativeFormat",
    "currencyPositiveFormat",
    "description",
    "displaySymbol",
    "exchangeRate",
    "isActive",
    "isInternalCurrency",
    "lastModifiedDateTime",
    "name",
    "updateResourceId",
)
_CURRENCY_NAMES: Final = {
    "USD": "US Dollar",
    "EUR": "Euro",
    "GBP": "Pound Sterling",
    "JPY": "Yen",
    "CAD": "Canadian Dollar",
}

#: Queryable entities: wire field order and the entity name used in error messages.
_ENTITIES: Final[dict[str, tuple[tuple[str, ...], str]]] = {
    "ContractMilestones": (_FIELD_ORDER, "ContractMilestone"),
    "Currencies": (_CURRENCY_FIELDS, "Currency"),
}


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _normalise_due(value: Any) -> str:
    parsed = _parse_datetime(value)
    assert parsed is not None
    return parsed.isoformat(timespec="seconds")


def _now_text() -> str:
    now = dt.datetime.now(dt.UTC)
    return now.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def _errors(status: int, *messages: str) -> httpx.Response:
    return json_response(status, {"errors": list(messages)})


class _Store(Emulator):
    """One tenant's contracts, companies, currencies and milestones, and the rules a milestone record obeys."""

    USERNAME: ClassVar[str] = "api-user@sandbox.example"
    SECRET: ClassVar[str] = "sandbox-secret-0000"
    INTEGRATION_CODE: ClassVar[str] = "SANDBOXINTEGRATIONCODE00001"
    RESOURCE_ID: ClassVar[int] = 29682885
    MILESTONE_BILLING_CODE: ClassVar[int] = 29682801

    def __init__(
        self,
        *,
        faults: FaultPlan | None = None,
        rate_limit: RateLimit | None = None,
        thread_limit_status: int = 429,
        threads: int = 3,
        hourly_threshold: int = 10_000,
        page_size: int = PAGE_SIZE,
        zone_name: str = "America West",
        multi_currency: bool = True,
        internal_currency: str = "USD",
    ) -> None:
        if thread_limit_status not in (429, 500):
            raise ValueError("thread_limit_status is 429 or 500")
        limit = rate_limit or RateLimit(
            requests=hourly_threshold, per_seconds=3600.0, max_concurrent=threads, send_retry_after=False
        )
        super().__init__(faults=faults, rate_limit=limit)
        self.thread_limit_status = thread_limit_status
        self.page_size = page_size
        self.zone_name = zone_name
        #: When set, zoneInformation hands out this host and other hosts answer 401 (a zone move).
        self.zone_host: str | None = None
        self.users: dict[str, str] = {self.USERNAME: self.SECRET}
        self.integration_codes: set[str] = {self.INTEGRATION_CODE}
        self.resources: set[int] = {self.RESOURCE_ID}
        self.billing_codes: dict[int, str] = {self.MILESTONE_BILLING_CODE: "Milestone", 29682802: "Labor"}
        #: False: the Multi-currency module is off, so ``Currencies`` answers 404 and companies have no currencyID.
        self.multi_currency = multi_currency
        self.internal_currency = internal_currency
        self.contracts: dict[int, dict[str, Any]] = {}
        self.companies: dict[int, dict[str, Any]] = {}
        self.currencies: dict[int, dict[str, Any]] = {}
        #: By id; a MilestoneTable knows each contract's rows (a plain dict put here instead is walked whole).
        self.milestones: dict[int, dict[str, Any]] = MilestoneTable()
        self._ids = itertools.count(29_684_001)
        self._contract_ids = itertools.count(29_683_001)
        self._company_ids = itertools.count(29_683_501)
        self._currency_ids = itertools.count(1)
        self._currency_row(internal_currency, internal=True)
        # Observability for tests: arrivals in flight per endpoint, and refusals.
        self.max_in_flight: dict[str, int] = {}
        self.thread_threshold_errors = 0
        self._arrived: dict[str, int] = {}
        self._stats_lock = threading.Lock()
        self._request_times: deque[float] = deque()
        self.router = self._routes()

    @abstractmethod
    def _routes(self) -> Router:
        """The route table (``_routes``), built once the state exists."""

    def _not_found(self, request: SandboxRequest) -> httpx.Response:
        return json_response(
            404, {"Message": f"No HTTP resource was found that matches the request URI '{request.url}'."}
        )

    def _not_allowed(self, request: SandboxRequest) -> httpx.Response:
        return json_response(
            405, {"Message": f"The requested resource does not support http method '{request.method}'."}
        )

    def _check_record(self, record: dict[str, Any], *, creating: bool) -> None:
        problems: list[str] = []
        for name in ("title", "amount", "dateDue", "status", "isInitialPayment", "contractID"):
            if record.get(name) is None:
                problems.append(f"{name} is required.")
        title = record.get("title")
        if isinstance(title, str) and len(title) > 50:
            problems.append("title exceeds the maximum length of 50 characters.")
        elif title is not None and not isinstance(title, str):
            problems.append("title must be a string.")
        description = record.get("description")
        if isinstance(description, str) and len(description) > 250:
            problems.append("description exceeds the maximum length of 250 characters.")
        amount = record.get("amount")
        if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int | Decimal)):
            problems.append("amount must be a number.")
        initial = record.get("isInitialPayment")
        if initial is not None and not isinstance(initial, bool):
            problems.append("isInitialPayment must be true or false.")
        status = record.get("status")
        if status is not None and status not in _STATUS_LABELS:
            problems.append(f"Value {status} is not a valid value for the status picklist.")
        if status == STATUS_BILLED and initial is False:
            problems.append("status cannot be Billed when isInitialPayment is false.")
        code = record.get("billingCodeID")
        if code is not None and self.billing_codes.get(code) != "Milestone":
            problems.append(f"billingCodeID {code} does not reference a Milestone-type billing code.")
        org = record.get("organizationalLevelAssociationID")
        if org is not None and not isinstance(org, int):
            problems.append("organizationalLevelAssociationID must be an integer.")
        due = record.get("dateDue")
        if due is not None and _parse_datetime(due) is None:
            problems.append(f"dateDue {due!r} is not a valid date.")
        if initial is True and status in (STATUS_BILLED, STATUS_READY):
            twins = [
                m
                for m in self.milestones.values()
                if m["contractID"] == record.get("contractID")
                and m["isInitialPayment"]
                and m["status"] == status
                and m["id"] != record.get("id")
            ]
            if twins:
                problems.append(f"A contract may have only one {_STATUS_LABELS[status]} initial-payment milestone.")
        if problems:
            raise _Refusal(500, *problems)

    def _stored(self, fields: dict[str, Any]) -> dict[str, Any]:
        """``fields`` as a row of the milestone table (indexed by contract), to store under its id."""
        table = self.milestones
        return table.row(fields) if isinstance(table, MilestoneTable) else fields

    def _writable(self, body: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        canonical = {k.lower(): k for k in _FIELD_ORDER}
        for key, value in body.items():
            name = canonical.get(key.lower())
            if name is None:
                raise _Refusal(500, f"Unable to find the field {key} on the entity ContractMilestone.")
            if name in _WRITABLE:
                out[name] = value
        return out

    def _internal(self, contract: Mapping[str, Any], amount: Any) -> Any:
        rate = contract.get("exchangeRate", Decimal(1))
        return amount if rate == 1 else (Decimal(amount) * rate).quantize(Decimal("0.01"))

    def _currency_row(self, code: str, *, internal: bool = False, exchange_rate: Decimal | int | str = 1) -> int:
        """The id of the Currencies row named ``code``, created when missing (Autotask ships them all)."""
        code = code.strip().upper()
        for row in self.currencies.values():
            if row["name"] == code:
                return int(row["id"])
        rate = Decimal(1) if internal else Decimal(str(exchange_rate))
        return self._insert_currency(code, _CURRENCY_NAMES.get(code, code), rate, internal=internal)

    def _insert_currency(self, name: str, description: str, rate: Decimal, *, internal: bool) -> int:
        """A new Currencies row, as the service lists them."""
        cuid = next(self._currency_ids)
        self.currencies[cuid] = {
            "id": cuid,
            "currencyNegativeFormat": "-x",
            "currencyPositiveFormat": "x",
            "description": description,
            "displaySymbol": 1,
            "exchangeRate": rate,
            "isActive": True,
            "isInternalCurrency": internal,
            "lastModifiedDateTime": _now_text(),
            "name": name,
            "updateResourceId": None,
        }
        return cuid
