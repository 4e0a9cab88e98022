"""Sans-IO half of the Autotask client: request specs, parsers and pre-send checks.

The sync and async clients only execute what this module builds, so both share every rule here. Error
classification and the hourly budget live in ``_core``; the strict reading of response envelopes in
``_envelopes`` (both re-exported here for the client).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import httpx

from .. import errors
from .._http import (
    APIResponse,
    Operation,
    PagedOperation,
    RequestSpec,
    Retryable,
)
from ..money import known_currencies, to_decimal
from . import _envelopes as env
from ._core import PLATFORM, AutotaskCore, HourlyBudget, error_detail, error_hook, is_thread_threshold, retry_hook
from .query import F, Query
from .wire import (
    CONTRACT_MILESTONE_FIELDS,
    DESCRIPTION_MAX,
    READ_ONLY_FIELDS,
    TITLE_MAX,
    WRITABLE_FIELDS,
    Company,
    CompanyItemResponse,
    Contract,
    ContractItemResponse,
    ContractMilestone,
    CurrenciesResponse,
    Currency,
    CurrencyItemResponse,
    FieldsResponse,
    ItemResponse,
    QueryCountResponse,
    ThresholdInformation,
    ZoneInformation,
)

__all__ = [
    "DEFAULT_DISCOVERY_URL",
    "ENTITY",
    "LABEL_BILLED",
    "LABEL_NOT_READY",
    "LABEL_READY",
    "PLATFORM",
    "AutotaskCore",
    "CurrencyCache",
    "HourlyBudget",
    "StatusPicklist",
    "company_operation",
    "contract_operation",
    "currency_operation",
    "error_detail",
    "error_hook",
    "internal_currency_operation",
    "is_thread_threshold",
    "resolve_currency",
    "retry_hook",
]

ENTITY: Final = "ContractMilestones"
#: Any zone answers zoneInformation; this host is the documented entry point.
DEFAULT_DISCOVERY_URL: Final = "https://webservices.autotask.net"
LABEL_NOT_READY: Final = "Not Ready to Bill"
LABEL_READY: Final = "Ready to Bill"
LABEL_BILLED: Final = "Billed"


# -- zones ------------------------------------------------------------------------------------------
def discovery_base(discovery_url: str) -> httpx.URL:
    """``https://webservices.autotask.net`` -> ``.../ATServicesRest/V1.0`` (a full REST base is kept)."""
    text = discovery_url.rstrip("/")
    if "/atservicesrest" not in text.lower():
        text += "/ATServicesRest/V1.0"
    elif not text.lower().endswith("/v1.0"):
        text += "/V1.0"
    return _checked_url(text, "discovery_url")


def zone_operation(username: str) -> Operation[ZoneInformation]:
    """Unauthenticated: zoneInformation needs only the user name, so no Secret travels to the discovery host."""
    spec = RequestSpec("GET", "zoneInformation", params={"user": username}, authenticated=False)
    return Operation(spec, lambda r: ZoneInformation.model_validate(env.body_of(r)))


def zone_api_base(zone: ZoneInformation, discovery: httpx.URL) -> httpx.URL:
    """The zone's ``url`` ends in ``ATServicesRest/``; requests go under ``V1.0``."""
    url = _checked_url(zone.url.rstrip("/") + "/V1.0", "zoneInformation.url")
    if discovery.scheme == "https" and url.scheme != "https":
        raise errors.ConfigError(f"zoneInformation returned a non-https zone URL {zone.url!r}; refusing it")
    return url


def _checked_url(text: str, what: str) -> httpx.URL:
    url = httpx.URL(text)
    if url.scheme not in ("http", "https") or not url.host:
        raise errors.ConfigError(f"{what}: expected an absolute http(s) URL, got {text!r}", key=what)
    return url


# -- picklists --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StatusPicklist:
    """The ``status`` picklist read from entityInformation/fields: value (int) -> label."""

    labels: Mapping[int, str]
    default: int | None = None

    @classmethod
    def from_fields(cls, fields: FieldsResponse) -> StatusPicklist:
        info = fields.field("status")
        if info is None or not info.picklist_values:
            raise errors.ValidationError("entityInformation/fields has no status picklist", field="status")
        labels: dict[int, str] = {}
        default = None
        for entry in info.picklist_values:
            try:
                value = int(entry.value)
            except ValueError:
                raise errors.ValidationError(
                    f"status picklist value {entry.value!r} is not an integer", field="status", value=entry.value
                ) from None
            labels[value] = entry.label
            if entry.is_default_value:
                default = value
        return cls(labels, default)

    def label_of(self, value: int) -> str | None:
        return self.labels.get(value)

    def value_of(self, label: str) -> int:
        wanted = label.strip().lower()
        for value, text in self.labels.items():
            if text.lower() == wanted:
                return value
        raise errors.ValidationError(
            f"status: {label!r} is not a label of this tenant's picklist ({sorted(self.labels.values())})",
            field="status",
            value=label,
        )

    def is_billed(self, value: int | None) -> bool:
        label = self.labels.get(value) if value is not None else None
        return label is not None and label.lower() == LABEL_BILLED.lower()

    def resolve(self, status: int | str) -> int:
        """An int picklist value (checked) or a label."""
        if isinstance(status, bool):
            raise errors.ValidationError(f"status: expected int or label, got {status!r}", field="status")
        if isinstance(status, str):
            return self.value_of(status)
        if isinstance(status, int) and status in self.labels:
            return status
        raise errors.ValidationError(
            f"status: {status!r} is not a value of the status picklist {dict(self.labels)}",
            field="status",
            value=status,
        )

    def initial(self) -> int:
        """The value a new milestone gets when the caller names none: the picklist default, else Not Ready."""
        return self.default if self.default is not None else self.value_of(LABEL_NOT_READY)


def fields_operation() -> Operation[FieldsResponse]:
    spec = RequestSpec("GET", f"{ENTITY}/entityInformation/fields", limit_key=ENTITY)
    return Operation(spec, lambda r: FieldsResponse.model_validate(env.body_of(r)))


def picklist_operation() -> Operation[StatusPicklist]:
    spec = fields_operation().spec
    return Operation(spec, lambda r: StatusPicklist.from_fields(env.status_fields_of(r)))


def threshold_operation() -> Operation[ThresholdInformation]:
    spec = RequestSpec("GET", "ThresholdInformation", limit_key="ThresholdInformation")
    return Operation(spec, lambda r: ThresholdInformation.model_validate(env.body_of(r)))


# -- reads ------------------------------------------------------------------------------------------
def query_operation(query: Query) -> PagedOperation[ContractMilestone]:
    """Each page strict (see ``_envelopes``): counts agree, every item carries its id, next links followable."""
    spec = RequestSpec("POST", f"{ENTITY}/query", json=query.to_wire(), retryable=Retryable.ALWAYS, limit_key=ENTITY)
    return PagedOperation(spec, env.items_page)


def count_operation(query: Query) -> Operation[int]:
    body = query.to_wire()
    body.pop("MaxRecords", None)
    body.pop("IncludeFields", None)
    spec = RequestSpec("POST", f"{ENTITY}/query/count", json=body, retryable=Retryable.ALWAYS, limit_key=ENTITY)
    return Operation(spec, lambda r: QueryCountResponse.model_validate(env.body_of(r)).query_count)


def _check_id(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise errors.ValidationError(f"{what}: expected a positive int, got {value!r}", field=what, value=value)
    return value


def get_operation(milestone_id: int) -> Operation[ContractMilestone]:
    mid = _check_id(milestone_id, "id")
    spec = RequestSpec("GET", f"{ENTITY}/{mid}", limit_key=ENTITY)

    def parse(response: APIResponse) -> ContractMilestone:
        return env.checked_item(
            "ContractMilestone", mid, response, ItemResponse.model_validate(env.body_of(response)).item
        )

    return Operation(spec, parse)


def unsupported_delete(milestone_id: object) -> errors.UnsupportedOperationError:
    return errors.UnsupportedOperationError(
        "Autotask does not allow deleting contract milestones (no DELETE endpoint; canDelete is false). "
        "Change the amount or status instead; nothing was sent",
        platform=PLATFORM,
        method="DELETE",
        path=f"/ATServicesRest/V1.0/{ENTITY}/{milestone_id}",
    )


# -- currency ---------------------------------------------------------------------------------------
# A milestone carries no currency. Its amount is in the contract's company's currency when the Multi-currency
# module is on (Company.currencyID -> Currencies.name), else in the tenant's internal currency. Currencies exists
# only with that module; without it nothing on the API names the internal currency, so the caller must.
def contract_operation(contract_id: int) -> Operation[Contract]:
    """``GET /Contracts/{id}``; ``item: null`` raises NotFoundError."""
    cid = _check_id(contract_id, "contractID")
    spec = RequestSpec("GET", f"Contracts/{cid}", limit_key="Contracts")
    return Operation(
        spec, lambda r: env.checked_item("Contract", cid, r, ContractItemResponse.model_validate(env.body_of(r)).item)
    )


def company_operation(company_id: int) -> Operation[Company]:
    """``GET /Companies/{id}``; ``item: null`` raises NotFoundError."""
    coid = _check_id(company_id, "companyID")
    spec = RequestSpec("GET", f"Companies/{coid}", limit_key="Companies")
    return Operation(
        spec, lambda r: env.checked_item("Company", coid, r, CompanyItemResponse.model_validate(env.body_of(r)).item)
    )


def currency_operation(currency_id: int) -> Operation[Currency]:
    """``GET /Currencies/{id}`` (404 when the Multi-currency module is off)."""
    cuid = _check_id(currency_id, "currencyID")
    spec = RequestSpec("GET", f"Currencies/{cuid}", limit_key="Currencies")
    return Operation(
        spec, lambda r: env.checked_item("Currency", cuid, r, CurrencyItemResponse.model_validate(env.body_of(r)).item)
    )


def internal_currency_operation() -> Operation[Currency | None]:
    """``POST /Currencies/query`` for ``isInternalCurrency eq true``: the tenant's internal currency, or None."""
    body = Query(F.eq("isInternalCurrency", True), max_records=10).to_wire()
    spec = RequestSpec("POST", "Currencies/query", json=body, retryable=Retryable.ALWAYS, limit_key="Currencies")

    def parse(response: APIResponse) -> Currency | None:
        body = CurrenciesResponse.model_validate(env.body_of(response))
        env.count_matches(body.page_details, body.items)
        return next((c for c in body.items if c.is_internal_currency is not False), None)

    return Operation(spec, parse)


def currency_code(currency: Currency, source: str) -> str:
    """``Currencies.name`` is the ISO 4217 code; anything else cannot price a milestone."""
    name = currency.name.strip().upper() if isinstance(currency.name, str) else None
    if name is None or len(name) != 3 or name not in known_currencies():
        raise errors.TranslationError(
            f"Autotask currency {currency.id} ({source}) is named {currency.name!r}, which is not an ISO 4217 "
            "code; pass currency= to the client or the call to say which currency its amounts are in",
            field="currency",
            source=currency.name,
        )
    return name


def unresolved_currency(contract_id: int, why: str) -> errors.ConfigError:
    return errors.ConfigError(
        f"the currency of Autotask contract {contract_id} could not be resolved: {why}. Pass currency='USD' (one "
        "code for every contract) or a {contract_id: code} mapping to the client, or currency= to the call",
        key="currency",
    )


@dataclass
class CurrencyCache:
    """What currency resolution learnt, per client (shared with ``with_options`` copies).

    Contract -> code is the cache callers see; currency ids and the internal currency are shared by every
    contract, so a second contract of another company costs two reads, not three.
    """

    by_contract: dict[int, str] = field(default_factory=dict)
    by_currency_id: dict[int, str] = field(default_factory=dict)
    internal: str | None = None
    contracts: dict[int, Contract] = field(default_factory=dict)

    def clear(self) -> None:
        self.by_contract.clear()
        self.by_currency_id.clear()
        self.internal = None
        self.contracts.clear()


#: The requests of a resolution: the client executes each yielded Operation and sends its result back
#: (or throws the APIError it raised), so the sync and async clients share every step.
CurrencyFlow = Generator[Operation[Any], Any, str]


def resolve_currency(contract_id: int, cache: CurrencyCache) -> CurrencyFlow:
    """Contracts/{id} -> companyID; Companies/{id} -> currencyID; Currencies/{id} -> name (ISO 4217).
    A company without a currency uses the internal one (``Currencies`` with ``isInternalCurrency``)."""
    cid = _check_id(contract_id, "contractID")
    cached = cache.by_contract.get(cid)
    if cached is not None:
        return cached
    contract: Contract = yield contract_operation(cid)
    cache.contracts[cid] = contract
    if contract.company_id is None:
        raise unresolved_currency(cid, "the contract has no companyID")
    company: Company = yield company_operation(contract.company_id)
    try:
        if company.currency_id is not None:
            code = cache.by_currency_id.get(company.currency_id)
            if code is None:
                currency: Currency = yield currency_operation(company.currency_id)
                code = currency_code(currency, f"currency of company {company.id}")
                cache.by_currency_id[company.currency_id] = code
        else:
            code = cache.internal
            if code is None:
                internal: Currency | None = yield internal_currency_operation()
                if internal is None:
                    raise unresolved_currency(
                        cid,
                        f"company {company.id} has no currencyID and Autotask names no internal currency "
                        "(is the Multi-currency module off?)",
                    )
                code = currency_code(internal, "the internal currency")
                cache.internal = code
    except errors.APIStatusError as exc:
        if exc.status_code != 404:
            raise
        raise unresolved_currency(
            cid, "the Currencies entity is absent (HTTP 404: the Multi-currency module is not enabled)"
        ) from exc
    cache.by_contract[cid] = code
    return code


# -- writes -----------------------------------------------------------------------------------------
_BY_PYTHON_NAME: Final = {py: wire for py, wire in CONTRACT_MILESTONE_FIELDS.items()}
_BY_WIRE_LOWER: Final = {wire.lower(): wire for wire in CONTRACT_MILESTONE_FIELDS.values()}


def wire_key(name: str) -> str:
    """``date_due`` or ``dateDue`` -> ``dateDue``; unknown names are refused (a typo would be a silent no-op)."""
    if name in _BY_PYTHON_NAME:
        return _BY_PYTHON_NAME[name]
    found = _BY_WIRE_LOWER.get(name.lower())
    if found is None:
        raise errors.ValidationError(
            f"{name}: not a ContractMilestone field (known: {sorted(CONTRACT_MILESTONE_FIELDS)})", field=name
        )
    return found


def format_date_due(value: object) -> str:
    """A date is sent without a zone (``YYYY-MM-DDT00:00:00``) so the tenant keeps the calendar day;
    an aware datetime is sent in UTC with ``Z``; a naive one as written."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return f"{value.isoformat()}T00:00:00"
    if isinstance(value, str):
        try:
            dt.datetime.fromisoformat(value)
        except ValueError:
            raise errors.ValidationError(
                f"dateDue: {value!r} is not an ISO 8601 date", field="dateDue", value=value
            ) from None
        return value
    raise errors.ValidationError(f"dateDue: expected a date or datetime, got {value!r}", field="dateDue", value=value)


def _normalise_value(key: str, value: Any, picklist: StatusPicklist) -> Any:
    if key == "title":
        if not isinstance(value, str) or not value.strip():
            raise errors.ValidationError("title: required, a non-empty str", field="title", value=value)
        if len(value) > TITLE_MAX:
            raise errors.ValidationError(
                f"title: {len(value)} characters, Autotask allows {TITLE_MAX}", field="title", value=value
            )
        return value
    if key == "description":
        if value is None:
            return None
        if not isinstance(value, str):
            raise errors.ValidationError("description: expected str or None", field="description", value=value)
        if len(value) > DESCRIPTION_MAX:
            raise errors.ValidationError(
                f"description: {len(value)} characters, Autotask allows {DESCRIPTION_MAX}",
                field="description",
                value=value,
            )
        return value
    if key == "amount":
        return to_decimal(value, field="amount")
    if key == "dateDue":
        return format_date_due(value)
    if key == "status":
        return picklist.resolve(value)
    if key == "isInitialPayment":
        if not isinstance(value, bool):
            raise errors.ValidationError(
                f"isInitialPayment: must be true or false, got {value!r}", field="isInitialPayment", value=value
            )
        return value
    if key in ("billingCodeID", "organizationalLevelAssociationID"):
        return None if value is None else _check_id(value, key)
    raise errors.ValidationError(f"{key}: cannot be written", field=key, value=value)


def normalise_fields(fields: Mapping[str, Any], picklist: StatusPicklist) -> dict[str, Any]:
    """Python or wire names -> wire keys with checked, JSON-ready values (Decimal amounts, never float)."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        key = wire_key(name)
        if key in READ_ONLY_FIELDS or key == "contractID":
            raise errors.ValidationError(
                f"{key}: read-only in Autotask ({'fixed after create' if key == 'contractID' else 'server-owned'})",
                field=key,
                value=value,
            )
        if key not in WRITABLE_FIELDS:
            raise errors.ValidationError(f"{key}: cannot be written", field=key, value=value)
        out[key] = _normalise_value(key, value, picklist)
    return out


def check_rules(record: Mapping[str, Any], picklist: StatusPicklist) -> None:
    """Autotask's business rules, checked on the record as it would be after the write."""
    if picklist.is_billed(record.get("status")) and record.get("isInitialPayment") is not True:
        raise errors.ValidationError(
            "status: only an initial-payment milestone (isInitialPayment=true) can be set to Billed",
            field="status",
            value=record.get("status"),
        )


def create_operation(
    contract_id: int, fields: Mapping[str, Any], picklist: StatusPicklist
) -> tuple[Operation[int], dict[str, Any]]:
    """POST through the parent route (there is no root POST); returns the operation and the body sent."""
    cid = _check_id(contract_id, "contractID")
    body = normalise_fields(fields, picklist)
    body.setdefault("status", picklist.initial())
    body.setdefault("isInitialPayment", False)
    for required in ("title", "amount", "dateDue"):
        if body.get(required) is None:
            raise errors.ValidationError(f"{required}: required to create a contract milestone", field=required)
    check_rules(body, picklist)
    payload = {"contractID": cid, **body}
    spec = RequestSpec("POST", f"Contracts/{cid}/Milestones", json=payload, limit_key=ENTITY)
    return Operation(spec, env.item_id_of), payload


def update_operation(
    contract_id: int,
    milestone_id: int,
    changed: Mapping[str, Any],
    current: ContractMilestone,
    picklist: StatusPicklist,
) -> tuple[Operation[int], dict[str, Any]]:
    """PATCH the changed fields through the parent route; a Billed record is locked."""
    cid = _check_id(contract_id, "contractID")
    mid = _check_id(milestone_id, "id")
    if current.id is not None and current.id != mid:
        raise errors.ValidationError(f"id: current record is {current.id}, not {mid}", field="id", value=mid)
    if current.contract_id is not None and current.contract_id != cid:
        raise errors.ValidationError(
            f"contractID: milestone {mid} belongs to contract {current.contract_id}, not {cid}",
            field="contractID",
            value=cid,
        )
    if picklist.is_billed(current.status):
        raise errors.ValidationError(
            f"status: milestone {mid} is Billed and locked in Autotask; it cannot be updated",
            field="status",
            value=current.status,
        )
    body = normalise_fields(changed, picklist)
    if not body:
        raise errors.ValidationError("update: no fields to change", field=None)
    merged = {**current.raw(), **body}
    check_rules(merged, picklist)
    payload = {"id": mid, **body}
    spec = RequestSpec(
        "PATCH", f"Contracts/{cid}/Milestones", json=payload, retryable=Retryable.ALWAYS, limit_key=ENTITY
    )
    return Operation(spec, lambda r: env.item_id_of(r, expected=mid)), payload


def as_record(payload: Mapping[str, Any], item_id: int) -> ContractMilestone:
    """The record as written, for callers that want a model back without another GET."""
    data = {**payload, "id": item_id}
    return ContractMilestone.model_validate(data)
