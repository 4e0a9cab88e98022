"""Sans-IO half of the Autotask client: request specs, parsers and pre-send checks.

The sync and async clients only execute what this module builds, so both share every rule here. Error
classification lives in ``_errors``, the core and the hourly budget in ``_core``, the strict reading of
response envelopes in ``_envelopes``, zones and trusted hosts in ``_zones`` and currency resolution in
``_currency`` (all re-exported here, so the client has one sans-IO namespace).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, NotRequired, TypedDict

from .. import errors
from .._http import (
    APIResponse,
    Operation,
    PagedOperation,
    RequestSpec,
    Retryable,
)
from ..money import to_decimal
from . import _envelopes as env
from ._core import AutotaskCore, HourlyBudget, RequestBudget
from ._currency import (
    CurrencyCache,
    CurrencyFlow,
    company_operation,
    contract_operation,
    currency_code,
    currency_operation,
    internal_currency_operation,
    resolve_currency,
    unresolved_currency,
)
from ._errors import PLATFORM, error_detail, error_hook, is_thread_threshold, retry_hook
from ._ids import check_id
from ._page import Record
from ._zones import (
    DEFAULT_DISCOVERY_URL,
    discovery_base,
    explicit_base,
    zone_api_base,
    zone_operation,
)
from .query import Query
from .wire import (
    CONTRACT_MILESTONE_FIELDS,
    DESCRIPTION_MAX,
    READ_ONLY_FIELDS,
    TITLE_MAX,
    WRITABLE_FIELDS,
    ContractMilestone,
    FieldsResponse,
    ItemResponse,
    QueryCountResponse,
    ThresholdInformation,
)

__all__ = [
    "DEFAULT_DISCOVERY_URL",
    "ENTITY",
    "LABEL_BILLED",
    "LABEL_NOT_READY",
    "LABEL_READY",
    "PLATFORM",
    "AutotaskCore",
    "ContractMilestoneCreateFields",
    "ContractMilestoneUpdateFields",
    "CurrencyCache",
    "CurrencyFlow",
    "HourlyBudget",
    "RequestBudget",
    "StatusPicklist",
    "check_create",
    "company_operation",
    "contract_operation",
    "currency_code",
    "currency_operation",
    "discovery_base",
    "error_detail",
    "error_hook",
    "explicit_base",
    "internal_currency_operation",
    "is_thread_threshold",
    "resolve_currency",
    "retry_hook",
    "unresolved_currency",
    "zone_api_base",
    "zone_operation",
]

#: The client and the container check call it by this name.
_check_id = check_id
ENTITY: Final = "ContractMilestones"
LABEL_NOT_READY: Final = "Not Ready to Bill"
LABEL_READY: Final = "Ready to Bill"
LABEL_BILLED: Final = "Billed"


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


def view_query_operation(query: Query, contract: int) -> PagedOperation[ContractMilestone | Record]:
    """:func:`query_operation` for the common view of ``contract`` (pages read by ``_envelopes.view_page``)."""
    return PagedOperation(query_operation(query).first, env.view_page(contract))


def count_operation(query: Query) -> Operation[int]:
    body = query.to_wire()
    body.pop("MaxRecords", None)
    body.pop("IncludeFields", None)
    spec = RequestSpec("POST", f"{ENTITY}/query/count", json=body, retryable=Retryable.ALWAYS, limit_key=ENTITY)
    return Operation(spec, lambda r: QueryCountResponse.model_validate(env.body_of(r)).query_count)


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


# -- writes -----------------------------------------------------------------------------------------
DateLike = dt.date | dt.datetime | str


class ContractMilestoneCreateFields(TypedDict):
    """A create's fields (``title``, ``amount`` and ``date_due`` are required; ``status`` a value or label)."""

    title: str
    amount: Any
    date_due: DateLike
    status: NotRequired[int | str | None]
    is_initial_payment: NotRequired[bool]
    description: NotRequired[str | None]
    billing_code_id: NotRequired[int | None]
    organizational_level_association_id: NotRequired[int | None]


class ContractMilestoneUpdateFields(TypedDict, total=False):
    """The fields an update may change; only those passed are sent (wire names are accepted too)."""

    title: str
    amount: Any
    date_due: DateLike
    status: int | str
    is_initial_payment: bool
    description: str | None
    billing_code_id: int | None
    organizational_level_association_id: int | None


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
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise errors.ValidationError(
                f"dateDue: {value!r} is not an ISO 8601 date", field="dateDue", value=value
            ) from None
        # Text goes out in the same shapes as the objects: the swagger types dateDue as a date-time, so a
        # date-only "2026-07-01" becomes "2026-07-01T00:00:00" (the calendar day, no zone).
        return format_date_due(parsed if ("T" in value or " " in value) else parsed.date())
    raise errors.ValidationError(f"dateDue: expected a date or datetime, got {value!r}", field="dateDue", value=value)


def _normalise_value(key: str, value: Any, picklist: StatusPicklist | None) -> Any:
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
        # Without the picklist (the checks made before it is read) a status is resolved later.
        return value if picklist is None else picklist.resolve(value)
    if key == "isInitialPayment":
        if not isinstance(value, bool):
            raise errors.ValidationError(
                f"isInitialPayment: must be true or false, got {value!r}", field="isInitialPayment", value=value
            )
        return value
    if key in ("billingCodeID", "organizationalLevelAssociationID"):
        return None if value is None else _check_id(value, key)
    raise errors.ValidationError(f"{key}: cannot be written", field=key, value=value)


def normalise_fields(fields: Mapping[str, Any], picklist: StatusPicklist | None) -> dict[str, Any]:
    """Python or wire names -> wire keys with checked, JSON-ready values (Decimal amounts, never float).

    ``picklist=None`` checks every field but leaves a status as given (it needs the picklist to resolve)."""
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


def check_create(contract_id: int, fields: Mapping[str, Any]) -> int:
    """The contract id, after every check a create makes without the status picklist (ids, types, lengths,
    required fields), so a bad argument is refused before the picklist is read: nothing is sent at all."""
    cid = _check_id(contract_id, "contractID")
    body = normalise_fields(fields, None)
    for required in ("title", "amount", "dateDue"):
        if body.get(required) is None:
            raise errors.ValidationError(f"{required}: required to create a contract milestone", field=required)
    return cid


def create_operation(
    contract_id: int, fields: Mapping[str, Any], picklist: StatusPicklist
) -> tuple[Operation[int], dict[str, Any]]:
    """POST through the parent route (there is no root POST); returns the operation and the body sent."""
    cid = check_create(contract_id, fields)
    body = normalise_fields(fields, picklist)
    body.setdefault("status", picklist.initial())
    body.setdefault("isInitialPayment", False)
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
