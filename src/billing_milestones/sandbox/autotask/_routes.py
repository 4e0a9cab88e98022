"""The Autotask emulator's route table and the requests that are not reads: auth, limits, metadata and writes.

Autotask answers with its own quirks: credential errors that are 500s (unknown user, bad integration code) or
401s (bad secret), business-rule failures as HTTP 500 with ``{"errors": [...]}``, create and update only through
``/Contracts/{id}/Milestones``, no DELETE, and a thread threshold counted per object endpoint.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import Any

import httpx

from .._emulator import Router, SandboxRequest, json_response
from .._limits import Throttle
from ._query import Refusal as _Refusal
from ._reads import _Reads
from ._store import (
    _FIELD_ORDER,
    _READ_ONLY,
    _STATUS_LABELS,
    CONTRACT_TYPE_FIXED_PRICE,
    STATUS_BILLED,
    STATUS_NOT_READY,
    _errors,
    _int,
    _normalise_due,
    _now_text,
)


class _Routes(_Reads):
    """Routes every request; the read handlers come from :class:`_Reads`."""

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

    # -- writes -------------------------------------------------------------------------------------
    def _contract(self, request: SandboxRequest) -> dict[str, Any]:
        cid = _int(request.params["parentId"])
        contract = self.contracts.get(cid) if cid is not None else None
        if contract is None:
            raise _Refusal(500, f"Value does not reference an existing entity for contractID ({cid}).")
        if contract["contractType"] != CONTRACT_TYPE_FIXED_PRICE:
            raise _Refusal(500, "Contract milestones can only be added to Fixed Price contracts.")
        return contract

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
        self.milestones[record["id"]] = self._stored(record)
        return json_response(200, {"itemId": record["id"]})

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
        self.milestones[mid] = self._stored(merged)
        return json_response(200, {"itemId": mid})

    def _patch(self, request: SandboxRequest) -> httpx.Response:
        return self._update(request, full=False)

    def _put(self, request: SandboxRequest) -> httpx.Response:
        return self._update(request, full=True)
