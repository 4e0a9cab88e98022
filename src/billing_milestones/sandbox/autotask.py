"""An in-memory Autotask PSA (REST V1.0) emulator for ContractMilestones.

It follows the documented behaviour and its quirks: zone discovery, credential errors that are 500s
(unknown user, bad integration code) or 401s (bad secret), business-rule failures as HTTP 500 with
``{"errors": [...]}``, 500-record pages (the child list ``GET /Contracts/{id}/Milestones`` too) whose
vendor-shaped ``nextPageUrl`` must be replayed with POST (a GET answers 405; see ``_autotask_paging``),
``item: null`` for a missing id, create/update only through ``/Contracts/{id}/Milestones``, no
DELETE, the status picklist, and the 3-thread-per-endpoint and hourly thresholds. For a contract's currency it
serves ``Contracts/{id}``, ``Companies/{id}`` and, with the Multi-currency module on, ``Currencies``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Generator, Iterable, Mapping
from decimal import Decimal
from typing import Any, ClassVar, Final

import httpx

from ._autotask_paging import Paging
from ._autotask_query import Refusal as _Refusal
from ._autotask_query import evaluate as _evaluate
from ._autotask_query import parse_datetime as _parse_datetime
from ._autotask_query import select as _select
from ._autotask_query import validate_filter as _validate_filter
from ._emulator import Emulator, Router, SandboxRequest, json_response
from ._faults import FaultPlan
from ._limits import RateLimit, Throttle

__all__ = ["CONTRACT_TYPE_FIXED_PRICE", "STATUS_BILLED", "STATUS_NOT_READY", "STATUS_READY", "AutotaskSandbox"]

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


def _errors(status: int, *messages: str) -> httpx.Response:
    return json_response(status, {"errors": list(messages)})


class AutotaskSandbox(Emulator):
    """Emulates one Autotask tenant. Reach it with ``http_client()``, ``async_http_client()`` or ``asgi_app()``.

    >>> sandbox = AutotaskSandbox(); ids = sandbox.seed_demo()
    >>> client = AutotaskClient(sandbox.USERNAME, sandbox.SECRET, sandbox.INTEGRATION_CODE,
    ...                         http_client=sandbox.http_client(), currency="USD")
    """

    platform: ClassVar[str] = "autotask"
    base_path: ClassVar[str] = "/ATServicesRest/V1.0"
    base_path_case_insensitive: ClassVar[bool] = True

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
        self.milestones: dict[int, dict[str, Any]] = {}
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

    # -- routing ------------------------------------------------------------------------------------
    def _routes(self) -> Router:
        r = Router(case_insensitive=True)
        r.add("GET", "/zoneInformation", self._zone_information)
        r.add("GET", "/ThresholdInformation", self._threshold_information)
        r.add("GET", "/ContractMilestones/entityInformation", self._entity_information)
        r.add("GET", "/ContractMilestones/entityInformation/fields", self._fields)
        r.add("GET", "/ContractMilestones/entityInformation/userDefinedFields", self._udf_fields)
        r.add("POST", "/ContractMilestones/query", self._query)
        r.add("GET", "/ContractMilestones/query", self._query_get)
        r.add("POST", "/ContractMilestones/query/next", self._query_next)
        r.add("POST", "/ContractMilestones/query/count", self._count)
        r.add("GET", "/ContractMilestones/query/count", self._count_get)
        r.add("GET", "/ContractMilestones/{id}", self._get)
        r.add("GET", "/Contracts/{parentId}", self._get_contract)
        r.add("GET", "/Companies/{id}", self._get_company)
        r.add("POST", "/Currencies/query", self._currency_query)
        r.add("POST", "/Currencies/query/next", self._currency_query_next)
        r.add("GET", "/Currencies/{id}", self._get_currency)
        # the child route's metadata, before {id} catches "entityInformation" (the swagger lists all three)
        r.add("GET", "/Contracts/{parentId}/Milestones/entityInformation", self._entity_information)
        r.add("GET", "/Contracts/{parentId}/Milestones/entityInformation/fields", self._fields)
        r.add("GET", "/Contracts/{parentId}/Milestones/entityInformation/userDefinedFields", self._udf_fields)
        r.add("GET", "/Contracts/{parentId}/Milestones", self._child_list)
        r.add("POST", "/Contracts/{parentId}/Milestones", self._create)
        r.add("PATCH", "/Contracts/{parentId}/Milestones", self._patch)
        r.add("PUT", "/Contracts/{parentId}/Milestones", self._put)
        r.add("GET", "/Contracts/{parentId}/Milestones/{id}", self._child_get)
        return r

    def handle(self, request: SandboxRequest) -> httpx.Response:
        self._request_times.append(self._now_monotonic())
        try:
            if request.path.lower().rstrip("/") != "/zoneinformation":
                self._authenticate(request)
            return self.router.dispatch(request, not_found=self._not_found, not_allowed=self._not_allowed)
        except _Refusal as refusal:
            return _errors(refusal.status, *refusal.messages)

    def _not_found(self, request: SandboxRequest) -> httpx.Response:
        return json_response(
            404, {"Message": f"No HTTP resource was found that matches the request URI '{request.url}'."}
        )

    def _not_allowed(self, request: SandboxRequest) -> httpx.Response:
        return json_response(
            405, {"Message": f"The requested resource does not support http method '{request.method}'."}
        )

    def limit_key(self, request: SandboxRequest) -> str:
        """Autotask limits threads per object endpoint; child routes count on the child entity."""
        parts = [p for p in request.path.split("/") if p]
        if not parts:
            return ""
        if parts[0].lower() == "contracts" and len(parts) >= 3 and parts[2].lower() == "milestones":
            return "contractmilestones"
        return parts[0].lower()

    def throttled_response(self, throttle: Throttle) -> httpx.Response:
        headers = {"Retry-After": f"{throttle.retry_after:.0f}"} if self._send_retry_after() else {}
        if throttle.reason == "concurrency":
            with self._stats_lock:
                self.thread_threshold_errors += 1
            limit = self.rate_limit.max_concurrent if self.rate_limit else 3
            message = (
                f"Thread Threshold Exceeded - The Autotask API thread threshold of {limit} threads has been "
                "exceeded. (Itgenatr005)"
            )
            return json_response(self.thread_limit_status, {"errors": [message]}, headers)
        requests = self.rate_limit.requests if self.rate_limit else None
        return json_response(
            429,
            {"errors": [f"Request threshold exceeded: {requests} requests per 60 minutes for this database."]},
            headers,
        )

    def steps(self, request: SandboxRequest) -> Generator[float, None, httpx.Response]:
        """Count arrivals in flight per endpoint (throttled or not), to show what a client really sent."""
        key = self.limit_key(request)
        with self._stats_lock:
            now = self._arrived.get(key, 0) + 1
            self._arrived[key] = now
            self.max_in_flight[key] = max(self.max_in_flight.get(key, 0), now)
        try:
            return (yield from super().steps(request))
        finally:
            with self._stats_lock:
                self._arrived[key] -= 1

    @staticmethod
    def _now_monotonic() -> float:
        return time.monotonic()

    # -- auth ---------------------------------------------------------------------------------------
    def _authenticate(self, request: SandboxRequest) -> None:
        """Autotask's inconsistent answers: unknown user 500, wrong secret 401, bad integration code 500."""
        user = request.headers.get("UserName")
        if not user or user not in self.users:
            raise _Refusal(500, f"The user '{user}' could not be found or is not an API user.")
        if request.headers.get("Secret") != self.users[user]:
            raise _Refusal(401, "Authorization has been denied for this request.")
        if request.headers.get("ApiIntegrationCode") not in self.integration_codes:
            raise _Refusal(500, "The API tracking identifier (ApiIntegrationCode) is invalid.")
        impersonate = request.headers.get("ImpersonationResourceId")
        if impersonate is not None and (not impersonate.isdigit() or int(impersonate) not in self.resources):
            raise _Refusal(500, f"Impersonation resource {impersonate} does not exist or cannot be impersonated.")
        if self.zone_host is not None and request.url.host != self.zone_host:
            raise _Refusal(401, "Authorization has been denied for this request.")

    # -- global -------------------------------------------------------------------------------------
    def _zone_url(self, request: SandboxRequest) -> str:
        if self.zone_host is not None:
            return f"{request.url.scheme}://{self.zone_host}/ATServicesRest/"
        return request.origin + "/ATServicesRest/"

    def _zone_information(self, request: SandboxRequest) -> httpx.Response:
        user = request.query.get("user")
        if not user or user not in self.users:
            return _errors(500, f"Zone information could not be determined for user '{user}'.")
        return json_response(
            200,
            {"zoneName": self.zone_name, "url": self._zone_url(request), "webUrl": request.origin + "/", "ci": 1234},
        )

    def _threshold_information(self, request: SandboxRequest) -> httpx.Response:
        now = self._now_monotonic()
        while self._request_times and now - self._request_times[0] >= 3600:
            self._request_times.popleft()
        threshold = self.rate_limit.requests if self.rate_limit and self.rate_limit.requests else 10_000
        return json_response(
            200,
            {
                "externalRequestThreshold": threshold,
                "requestThresholdTimeframe": 60,
                "currentTimeframeRequestCount": len(self._request_times),
            },
        )

    def _entity_information(self, request: SandboxRequest) -> httpx.Response:
        return json_response(
            200,
            {
                "info": {
                    "name": "ContractMilestone",
                    "canCreate": True,
                    "canDelete": False,
                    "canQuery": True,
                    "canUpdate": True,
                    "hasUserDefinedFields": False,
                    "supportsWebhookCallouts": False,
                    "userAccessForCreate": "All",
                    "userAccessForDelete": "None",
                    "userAccessForQuery": "All",
                    "userAccessForUpdate": "All",
                }
            },
        )

    def _udf_fields(self, request: SandboxRequest) -> httpx.Response:
        return json_response(200, {"fields": []})

    def _fields(self, request: SandboxRequest) -> httpx.Response:
        def info(name: str, data_type: str, **extra: Any) -> dict[str, Any]:
            base: dict[str, Any] = {
                "name": name,
                "dataType": data_type,
                "length": 0,
                "isRequired": False,
                "isReadOnly": name in _READ_ONLY,
                "isQueryable": True,
                "isReference": False,
                "referenceEntityType": "",
                "isPickList": False,
                "picklistValues": None,
                "picklistParentValueField": "",
                "isSupportedWebhookField": False,
            }
            base.update(extra)
            return base

        status_values = [
            {
                "value": str(v),
                "label": label,
                "isDefaultValue": v == STATUS_NOT_READY,
                "sortOrder": v,
                "parentValue": "",
                "isActive": True,
                "isSystem": True,
            }
            for v, label in _STATUS_LABELS.items()
        ]
        fields = [
            info("id", "long", isRequired=True),
            info("amount", "double", isRequired=True),
            info("billingCodeID", "integer", isReference=True, referenceEntityType="BillingCode"),
            info("contractID", "integer", isRequired=True, isReference=True, referenceEntityType="Contract"),
            info("createDate", "datetime"),
            info("creatorResourceID", "integer", isReference=True, referenceEntityType="Resource"),
            info("dateDue", "datetime", isRequired=True),
            info("description", "string", length=250),
            info("internalCurrencyAmount", "double"),
            info("isInitialPayment", "boolean", isRequired=True),
            info("organizationalLevelAssociationID", "integer", isReference=True),
            info("status", "integer", isRequired=True, isPickList=True, picklistValues=status_values),
            info("title", "string", length=50, isRequired=True),
        ]
        return json_response(200, {"fields": fields})

    # -- reads --------------------------------------------------------------------------------------
    def _public(self, record: Mapping[str, Any], include: Iterable[str] | None = None) -> dict[str, Any]:
        return _select(record, _FIELD_ORDER, include)

    def _get(self, request: SandboxRequest) -> httpx.Response:
        mid = _int(request.params["id"])
        record = self.milestones.get(mid) if mid is not None else None
        if mid is None:
            return self._not_found(request)
        return json_response(200, {"item": self._public(record) if record else None})

    def _child_get(self, request: SandboxRequest) -> httpx.Response:
        mid = _int(request.params["id"])
        record = self.milestones.get(mid) if mid is not None else None
        if record is not None and record["contractID"] != _int(request.params["parentId"]):
            record = None
        return json_response(200, {"item": self._public(record) if record else None})

    def _child_list(self, request: SandboxRequest) -> httpx.Response:
        """Every milestone of the contract, paged like any list; its links come back to this GET route."""
        cid = _int(request.params["parentId"])
        search = {"filter": [{"op": "eq", "field": "contractID", "value": cid}]}
        paging = Paging.parse(request.query["paging"], PAGE_SIZE) if "paging" in request.query else None
        rows = [r for _, r in sorted(self.milestones.items()) if r["contractID"] == cid]
        route = f"{request.origin}{self.base_path}/Contracts/{cid}/Milestones"
        return self._paged(rows, paging or Paging(self.page_size), route, search, _FIELD_ORDER, None)

    def _get_contract(self, request: SandboxRequest) -> httpx.Response:
        cid = _int(request.params["parentId"])
        contract = self.contracts.get(cid) if cid is not None else None
        item = {k: contract.get(k) for k in _CONTRACT_FIELDS} if contract else None
        return json_response(200, {"item": item})

    def _get_company(self, request: SandboxRequest) -> httpx.Response:
        coid = _int(request.params["id"])
        if coid is None:
            return self._not_found(request)
        company = self.companies.get(coid)
        if company is None:
            return json_response(200, {"item": None})
        item = dict(company)
        if not self.multi_currency:
            item.pop("currencyID", None)
        return json_response(200, {"item": item})

    def _get_currency(self, request: SandboxRequest) -> httpx.Response:
        cuid = _int(request.params["id"])
        if not self.multi_currency or cuid is None:
            return self._not_found(request)
        row = self.currencies.get(cuid)
        return json_response(200, {"item": dict(row) if row else None})

    def _currency_query(self, request: SandboxRequest) -> httpx.Response:
        if not self.multi_currency:
            return self._not_found(request)
        return self._page(request, self._body(request), None, entity="Currencies")

    def _currency_query_next(self, request: SandboxRequest) -> httpx.Response:
        if not self.multi_currency:
            return self._not_found(request)
        return self._page(request, self._next_body(request), self._paging(request), entity="Currencies")

    def _body(self, request: SandboxRequest) -> dict[str, Any]:
        try:
            body = request.json()
        except ValueError:
            raise _Refusal(500, "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise _Refusal(500, "The request body must be a JSON object.")
        return body

    def _query_model(
        self, body: Mapping[str, Any], entity: str = "ContractMilestones"
    ) -> tuple[list[Any], int, list[str] | None]:
        lowered = {k.lower(): v for k, v in body.items()}
        filters = lowered.get("filter")
        if not isinstance(filters, list) or not filters:
            raise _Refusal(500, "A query requires at least one filter item (for example exist id).")
        fields, label = _ENTITIES[entity]
        for item in filters:
            _validate_filter(item, fields, label)
        max_records = lowered.get("maxrecords")
        if max_records is None:
            max_records = self.page_size
        if isinstance(max_records, bool) or not isinstance(max_records, int) or not 1 <= max_records <= PAGE_SIZE:
            raise _Refusal(500, f"MaxRecords must be between 1 and {PAGE_SIZE}.")
        include = lowered.get("includefields")
        if include is not None and (not isinstance(include, list) or not all(isinstance(f, str) for f in include)):
            raise _Refusal(500, "IncludeFields must be a list of field names.")
        return filters, min(max_records, self.page_size), include

    def _matches(self, filters: list[Any], entity: str = "ContractMilestones") -> list[dict[str, Any]]:
        rows = self.currencies if entity == "Currencies" else self.milestones
        return [r for _, r in sorted(rows.items()) if all(_evaluate(f, r) for f in filters)]

    def _page(
        self,
        request: SandboxRequest,
        body: Mapping[str, Any],
        paging: Paging | None,
        *,
        entity: str = "ContractMilestones",
    ) -> httpx.Response:
        """One page of a query; without ``paging`` the first, sized by MaxRecords."""
        filters, size, include = self._query_model(body, entity)
        route = f"{request.origin}{self.base_path}/{entity}/query/next"
        page = paging if paging is not None else Paging(size)
        return self._paged(self._matches(filters, entity), page, route, dict(body), _ENTITIES[entity][0], include)

    def _paged(
        self,
        rows: list[dict[str, Any]],
        paging: Paging,
        route: str,
        search: dict[str, Any],
        order: Iterable[str],
        include: Iterable[str] | None,
    ) -> httpx.Response:
        page, next_id = paging.page_of(rows)
        back = paging.back()
        details = {
            "count": len(page),
            "requestCount": paging.page_size,
            "prevPageUrl": back.link(route, search) if back is not None else None,
            "nextPageUrl": paging.next_from(next_id).link(route, search) if next_id is not None else None,
        }
        return json_response(200, {"items": [_select(r, order, include) for r in page], "pageDetails": details})

    def _paging(self, request: SandboxRequest) -> Paging:
        return Paging.parse(request.query.get("paging"), min(PAGE_SIZE, self.page_size))

    def _next_body(self, request: SandboxRequest) -> dict[str, Any]:
        """A next (or previous) link is replayed with the query as its body; without one, its ``search``."""
        return self._body(request) if request.body.strip() else self._search(request)

    def _query(self, request: SandboxRequest) -> httpx.Response:
        return self._page(request, self._body(request), None)

    def _query_get(self, request: SandboxRequest) -> httpx.Response:
        return self._page(request, self._search(request), None)

    def _search(self, request: SandboxRequest) -> dict[str, Any]:
        try:
            body = json.loads(request.query.get("search", ""))
        except ValueError:
            raise _Refusal(500, "The search parameter is not valid JSON.") from None
        if not isinstance(body, dict):
            raise _Refusal(500, "The search parameter must be a JSON object.")
        return body

    def _query_next(self, request: SandboxRequest) -> httpx.Response:
        return self._page(request, self._next_body(request), self._paging(request))

    def _count(self, request: SandboxRequest) -> httpx.Response:
        filters, _, _ = self._query_model(self._body(request))
        return json_response(200, {"queryCount": len(self._matches(filters))})

    def _count_get(self, request: SandboxRequest) -> httpx.Response:
        filters, _, _ = self._query_model(self._search(request))
        return json_response(200, {"queryCount": len(self._matches(filters))})

    # -- writes -------------------------------------------------------------------------------------
    def _contract(self, request: SandboxRequest) -> dict[str, Any]:
        cid = _int(request.params["parentId"])
        contract = self.contracts.get(cid) if cid is not None else None
        if contract is None:
            raise _Refusal(500, f"Value does not reference an existing entity for contractID ({cid}).")
        if contract["contractType"] != CONTRACT_TYPE_FIXED_PRICE:
            raise _Refusal(500, "Contract milestones can only be added to Fixed Price contracts.")
        return contract

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

    def _create(self, request: SandboxRequest) -> httpx.Response:
        contract = self._contract(request)
        body = self._body(request)
        lowered = {k.lower(): k for k in body}
        if "id" in lowered and body[lowered["id"]] not in (None, 0):
            raise _Refusal(500, "id must not be set when creating an entity.")
        given_contract = body.get(lowered.get("contractid", "contractID"))
        if given_contract is not None and given_contract != contract["id"]:
            raise _Refusal(500, "contractID in the body does not match the parent contract.")
        record: dict[str, Any] = {k: None for k in _FIELD_ORDER}
        record.update(self._writable(body))
        record["contractID"] = contract["id"]
        self._check_record(record, creating=True)
        record["id"] = next(self._ids)
        record["dateDue"] = _normalise_due(record["dateDue"])
        record["createDate"] = _now_text()
        record["creatorResourceID"] = self.RESOURCE_ID
        record["internalCurrencyAmount"] = self._internal(contract, record["amount"])
        self.milestones[record["id"]] = record
        return json_response(200, {"itemId": record["id"]})

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

    def _update(self, request: SandboxRequest, *, full: bool) -> httpx.Response:
        contract = self._contract(request)
        body = self._body(request)
        lowered = {k.lower(): k for k in body}
        mid = body.get(lowered.get("id", "id"))
        if isinstance(mid, bool) or not isinstance(mid, int):
            raise _Refusal(500, "id is required to update an entity.")
        existing = self.milestones.get(mid)
        if existing is None or existing["contractID"] != contract["id"]:
            raise _Refusal(500, f"The ContractMilestone with id {mid} does not exist on contract {contract['id']}.")
        if existing["status"] == STATUS_BILLED:
            raise _Refusal(500, "A Billed milestone cannot be updated.")
        for key, value in body.items():
            name = key.lower()
            if name == "contractid" and value != existing["contractID"]:
                raise _Refusal(500, "contractID is read-only.")
            if name in {r.lower() for r in _READ_ONLY} - {"id"} and value != existing.get(key):
                raise _Refusal(500, f"{key} is read-only.")
        changes = self._writable({k: v for k, v in body.items() if k.lower() not in ("id", "contractid")})
        if full:
            missing = [f for f in ("title", "amount", "dateDue", "status", "isInitialPayment") if f not in changes]
            if missing:
                raise _Refusal(500, *(f"{f} is required." for f in missing))
        merged = {**existing, **changes}
        self._check_record(merged, creating=False)
        merged["dateDue"] = _normalise_due(merged["dateDue"])
        merged["internalCurrencyAmount"] = self._internal(contract, merged["amount"])
        self.milestones[mid] = merged
        return json_response(200, {"itemId": mid})

    def _patch(self, request: SandboxRequest) -> httpx.Response:
        return self._update(request, full=False)

    def _put(self, request: SandboxRequest) -> httpx.Response:
        return self._update(request, full=True)

    # -- helpers for tests and demos ----------------------------------------------------------------
    def _currency_row(self, code: str, *, internal: bool = False, exchange_rate: Decimal | int | str = 1) -> int:
        """The id of the Currencies row named ``code``, created when missing (Autotask ships them all)."""
        code = code.strip().upper()
        for row in self.currencies.values():
            if row["name"] == code:
                return int(row["id"])
        cuid = next(self._currency_ids)
        self.currencies[cuid] = {
            "id": cuid,
            "currencyNegativeFormat": "-x",
            "currencyPositiveFormat": "x",
            "description": _CURRENCY_NAMES.get(code, code),
            "displaySymbol": 1,
            "exchangeRate": Decimal(1) if internal else Decimal(str(exchange_rate)),
            "isActive": True,
            "isInternalCurrency": internal,
            "lastModifiedDateTime": _now_text(),
            "name": code,
            "updateResourceId": None,
        }
        return cuid

    def add_currency(self, name: str, *, exchange_rate: Decimal | int | str = 1, internal: bool = False) -> int:
        """A Currencies row named ``name`` as written (no ISO check: tests need broken tenants too)."""
        with self.lock:
            cuid = next(self._currency_ids)
            if internal:
                for row in self.currencies.values():
                    row["isInternalCurrency"] = False
            self.currencies[cuid] = {
                "id": cuid,
                "currencyNegativeFormat": "-x",
                "currencyPositiveFormat": "x",
                "description": name,
                "displaySymbol": 1,
                "exchangeRate": Decimal(str(exchange_rate)),
                "isActive": True,
                "isInternalCurrency": internal,
                "lastModifiedDateTime": _now_text(),
                "name": name,
                "updateResourceId": None,
            }
            return cuid

    def add_company(
        self,
        company_id: int | None = None,
        *,
        name: str = "Customer",
        currency: str | None = None,
        currency_id: int | None = None,
        exchange_rate: Decimal | int | str = 1,
    ) -> int:
        """A company billed in ``currency`` (a Currencies row is created as needed) or in the currency row
        ``currency_id``; with neither, no currencyID (its contracts bill in the internal currency)."""
        with self.lock:
            coid = company_id if company_id is not None else next(self._company_ids)
            if currency is not None and currency_id is None and self.multi_currency:
                currency_id = self._currency_row(
                    currency, internal=currency.strip().upper() == self.internal_currency, exchange_rate=exchange_rate
                )
            self.companies[coid] = {
                "id": coid,
                "companyName": name,
                "companyType": 1,
                "currencyID": currency_id,
                "isActive": True,
            }
            return coid

    def company_currency(self, company_id: int) -> str:
        """The code a company's contracts bill in (its currency row's name, else the internal currency)."""
        cuid = self.companies[company_id].get("currencyID")
        if cuid is None or not self.multi_currency:
            return self.internal_currency
        return str(self.currencies[cuid]["name"])

    def add_contract(
        self,
        contract_id: int | None = None,
        *,
        name: str = "Fixed price project",
        contract_type: int = CONTRACT_TYPE_FIXED_PRICE,
        company_id: int | None = None,
        currency: str | None = None,
        exchange_rate: Decimal | int | str = 1,
    ) -> int:
        """A contract of company ``company_id`` (created when missing). ``currency`` is the company's billing
        currency: without ``company_id`` a company billed in it is reused or created; with one that exists, it
        must match. No ``currency``: the company's, else the internal currency."""
        with self.lock:
            wanted = currency.strip().upper() if currency is not None else None
            if wanted is not None and not self.multi_currency and wanted != self.internal_currency:
                raise ValueError(
                    f"multi-currency is off: every contract bills in the internal currency "
                    f"{self.internal_currency}, not {wanted}"
                )
            if company_id is None:
                company_id = self._company_for(wanted, exchange_rate)
            elif company_id not in self.companies:
                self.add_company(
                    company_id, name=f"Customer {company_id}", currency=wanted, exchange_rate=exchange_rate
                )
            billed_in = self.company_currency(company_id)
            if wanted is not None and billed_in != wanted:
                raise ValueError(f"company {company_id} bills in {billed_in}, not {wanted}")
            cid = contract_id if contract_id is not None else next(self._contract_ids)
            self.contracts[cid] = {
                "id": cid,
                "billToCompanyID": None,
                "companyID": company_id,
                "contractName": name,
                "contractType": contract_type,
                "status": 1,
                # sandbox bookkeeping, not served: the resolved code and the rate behind internalCurrencyAmount
                "currency": billed_in,
                "exchangeRate": Decimal(str(exchange_rate)),
            }
            return cid

    def _company_for(self, currency: str | None, exchange_rate: Decimal | int | str) -> int:
        """A sandbox company billed in ``currency`` (None: one without currencyID), created on first use."""
        for coid, company in self.companies.items():
            if not company["companyName"].startswith("Sandbox customer"):
                continue
            has_row = company.get("currencyID") is not None
            if currency is None and not has_row:
                return coid
            if (
                currency is not None
                and (has_row or not self.multi_currency)
                and self.company_currency(coid) == currency
            ):
                return coid
        label = currency or "internal currency"
        return self.add_company(name=f"Sandbox customer ({label})", currency=currency, exchange_rate=exchange_rate)

    def add_milestone(
        self,
        contract_id: int,
        *,
        title: str = "Milestone",
        amount: Decimal | int | str = "1000.00",
        date_due: dt.date | str = dt.date(2026, 1, 31),
        status: int = STATUS_NOT_READY,
        is_initial_payment: bool = False,
        description: str | None = None,
        billing_code_id: int | None = None,
    ) -> int:
        """Seed a record directly (no API rules), e.g. states only Autotask's billing can produce."""
        with self.lock:
            if contract_id not in self.contracts:
                raise KeyError(f"no contract {contract_id}; call add_contract first")
            mid = next(self._ids)
            due = date_due if isinstance(date_due, str) else f"{date_due.isoformat()}T00:00:00"
            value = Decimal(str(amount))
            self.milestones[mid] = {
                "id": mid,
                "amount": value,
                "billingCodeID": billing_code_id,
                "contractID": contract_id,
                "createDate": _now_text(),
                "creatorResourceID": self.RESOURCE_ID,
                "dateDue": due,
                "description": description,
                "internalCurrencyAmount": self._internal(self.contracts[contract_id], value),
                "isInitialPayment": is_initial_payment,
                "organizationalLevelAssociationID": None,
                "status": status,
                "title": title,
            }
            return mid

    def bill(self, milestone_id: int) -> None:
        """What Autotask's billing (Approve and Post) does: the milestone becomes Billed and locked."""
        with self.lock:
            self.milestones[milestone_id]["status"] = STATUS_BILLED

    def move_zone(self, host: str) -> None:
        """Emulate a datacenter move: zoneInformation answers ``host``; the old host answers 401."""
        self.zone_host = host

    def seed_demo(self) -> dict[str, int]:
        """A small tenant: a USD fixed-price contract with three milestones (one billed), a EUR one,
        and a Time & Materials contract that refuses milestones."""
        usd = self.add_contract(name="Website rebuild (fixed price)", currency="USD")
        eur = self.add_contract(name="ERP rollout (fixed price)", currency="EUR", exchange_rate="1.08")
        tm = self.add_contract(name="Support (time and materials)", contract_type=1)
        deposit = self.add_milestone(
            usd, title="Deposit", amount="5000.00", status=STATUS_BILLED, is_initial_payment=True
        )
        design = self.add_milestone(usd, title="Design sign-off", amount="7500.00", date_due=dt.date(2026, 3, 31))
        launch = self.add_milestone(
            usd, title="Launch", amount="12500.00", date_due=dt.date(2026, 6, 30), status=STATUS_READY
        )
        self.add_milestone(eur, title="Phase 1", amount="20000.00", date_due=dt.date(2026, 4, 30))
        return {
            "usd_contract": usd,
            "eur_contract": eur,
            "tm_contract": tm,
            "deposit": deposit,
            "design": design,
            "launch": launch,
        }


# -- filter evaluation ------------------------------------------------------------------------------
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
