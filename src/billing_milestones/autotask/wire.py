"""Autotask REST payloads with their exact camelCase wire names.

Python attributes are snake_case; the wire keys are the aliases (camelCase, as the swagger's models spell them).
Keys are matched case-insensitively on read: the server treats field names so, and older tooling and proxies
answer in PascalCase (``ContractID``, ``PageDetails``); read by exact name, such a page would be refused or, worse,
its fields would land as unknown extras and the record would read as empty. Sent keys are always camelCase.
Unknown keys are kept (``WireModel`` has ``extra="allow"``) because Autotask adds fields without notice.
``amount`` is a Decimal parsed from the JSON text itself (the HTTP core never lets a JSON number pass through
float).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, Field, StrictBool, StrictInt, StrictStr, model_validator
from pydantic.config import JsonDict

from .._wire import WireDecimal, WireIntId, WireModel

__all__ = [
    "CONTRACT_MILESTONE_FIELDS",
    "DESCRIPTION_MAX",
    "READ_ONLY_FIELDS",
    "TITLE_MAX",
    "WRITABLE_FIELDS",
    "AutotaskModel",
    "Company",
    "CompanyItemResponse",
    "Contract",
    "ContractItemResponse",
    "ContractMilestone",
    "CurrenciesResponse",
    "Currency",
    "CurrencyItemResponse",
    "EntityInformation",
    "EntityInformationResponse",
    "ErrorBody",
    "FieldInformation",
    "FieldsResponse",
    "ItemIdResponse",
    "ItemResponse",
    "ItemsResponse",
    "PageDetails",
    "PicklistValue",
    "QueryCountResponse",
    "ThresholdInformation",
    "UserDefinedField",
    "WireBool",
    "WireCount",
    "WireDateTime",
    "WireInt",
    "WireText",
    "ZoneInformation",
]

_RO: Final[JsonDict] = {"readOnly": True}
#: Lengths from the field metadata; checked before sending, not on read (a server value is never refused).
TITLE_MAX: Final = 50
DESCRIPTION_MAX: Final = 250
_DATE_TEXT: Final = re.compile(r"\d{4}-\d{2}-\d{2}([Tt ].*)?", re.ASCII)


def _date_text(value: object) -> object:
    """pydantic reads ``5`` or ``"5"`` as 5 seconds after 1970: on the wire a datetime is ISO 8601 text only."""
    if isinstance(value, dt.date) or (isinstance(value, str) and _DATE_TEXT.fullmatch(value)):
        return value
    raise ValueError(f"expected an ISO 8601 date-time string, got {type(value).__name__} {value!r}")


# Strict scalars: the lax defaults would read ``true`` as 1, ``1`` or ``"yes"`` as true and ``1.0`` as 1, and a
# coerced value is a wrong value (``itemId: true`` linked a created milestone to record 1).
#: true or false only.
WireBool = StrictBool
#: A JSON integer only (no boolean, float or string).
WireInt = StrictInt
#: A JSON integer >= 0 (counts, thresholds).
WireCount = Annotated[StrictInt, Field(ge=0)]
#: A JSON string only.
WireText = StrictStr
#: ISO 8601 text (or a date or datetime built in Python: JSON never holds one); never a number.
WireDateTime = Annotated[dt.datetime, BeforeValidator(_date_text)]


@functools.cache
def _wire_names(model: type[WireModel]) -> dict[str, str]:
    """Lower-cased wire key -> the declared wire key, per model class (computed once)."""
    return {(info.alias or name).lower(): info.alias or name for name, info in model.model_fields.items()}


class AutotaskModel(WireModel):
    """A WireModel whose declared keys are found in any casing (``ContractID`` reads as ``contractID``).

    Two keys that differ only in case name one field twice: refused, since either value could be the real one."""

    @model_validator(mode="before")
    @classmethod
    def _fold_key_case(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        names = _wire_names(cls)
        out: dict[Any, Any] = {}
        for key, value in data.items():
            canonical = names.get(key.lower(), key) if isinstance(key, str) else key
            if canonical in out:
                raise ValueError(f"the key {key!r} repeats {canonical!r} in another casing")
            out[canonical] = value
        return out


class UserDefinedField(AutotaskModel):
    name: WireText
    value: Any = None


class ContractMilestone(AutotaskModel):
    """One ``ContractMilestones`` record (billing milestone of a Fixed Price contract).

    Every field may be absent (``IncludeFields`` trims records) or null, but what is there has the documented
    type exactly: ids are integers (or digit strings), never booleans; amounts exact decimals."""

    id: WireIntId | None = Field(default=None, json_schema_extra=_RO)
    contract_id: WireIntId | None = Field(default=None, alias="contractID", description="read-only after create")
    title: WireText | None = Field(default=None, json_schema_extra={"maxLength": TITLE_MAX})
    description: WireText | None = Field(default=None, json_schema_extra={"maxLength": DESCRIPTION_MAX})
    amount: WireDecimal | None = None
    internal_currency_amount: WireDecimal | None = Field(
        default=None, alias="internalCurrencyAmount", json_schema_extra=_RO
    )
    date_due: WireDateTime | None = Field(default=None, alias="dateDue")
    status: WireIntId | None = None
    is_initial_payment: WireBool | None = Field(default=None, alias="isInitialPayment")
    billing_code_id: WireIntId | None = Field(default=None, alias="billingCodeID")
    create_date: WireDateTime | None = Field(default=None, alias="createDate", json_schema_extra=_RO)
    creator_resource_id: WireIntId | None = Field(default=None, alias="creatorResourceID", json_schema_extra=_RO)
    organizational_level_association_id: WireIntId | None = Field(
        default=None, alias="organizationalLevelAssociationID"
    )
    user_defined_fields: list[UserDefinedField] = Field(default_factory=list, alias="userDefinedFields")


#: Python attribute name -> wire key, for every declared field.
CONTRACT_MILESTONE_FIELDS: Final[dict[str, str]] = {
    name: (info.alias or name) for name, info in ContractMilestone.model_fields.items()
}
#: Wire keys the server owns: never sent on create or update. ``contractID`` is fixed after create.
READ_ONLY_FIELDS: Final = frozenset({"id", "internalCurrencyAmount", "createDate", "creatorResourceID"})
#: Wire keys a caller may set on create (``contractID`` comes from the parent route) or change on update.
WRITABLE_FIELDS: Final = frozenset(
    {
        "title",
        "description",
        "amount",
        "dateDue",
        "status",
        "isInitialPayment",
        "billingCodeID",
        "organizationalLevelAssociationID",
    }
)


class ItemResponse(AutotaskModel):
    """``{"item": {...}}``; Autotask answers a missing id with ``item: null`` and HTTP 200 (the key is required)."""

    item: ContractMilestone | None


class PageDetails(AutotaskModel):
    """``PagingModel``: every key is required (a missing ``nextPageUrl`` must not read as "last page")."""

    count: WireCount
    request_count: WireCount = Field(alias="requestCount")
    prev_page_url: WireText | None = Field(alias="prevPageUrl")
    next_page_url: WireText | None = Field(alias="nextPageUrl")


class ItemsResponse(AutotaskModel):
    items: list[ContractMilestone]
    page_details: PageDetails = Field(alias="pageDetails")


class ItemIdResponse(AutotaskModel):
    """What create, update (PATCH/PUT) return."""

    item_id: WireIntId = Field(alias="itemId")


class QueryCountResponse(AutotaskModel):
    query_count: WireCount = Field(alias="queryCount")


class PicklistValue(AutotaskModel):
    """A picklist entry. ``value`` is a string on the wire even for integer fields."""

    value: WireText
    label: WireText
    is_default_value: WireBool = Field(default=False, alias="isDefaultValue")
    sort_order: WireInt | None = Field(default=None, alias="sortOrder")
    parent_value: WireText | None = Field(default=None, alias="parentValue")
    is_active: WireBool = Field(default=True, alias="isActive")
    is_system: WireBool = Field(default=False, alias="isSystem")


class FieldInformation(AutotaskModel):
    name: WireText
    data_type: WireText | None = Field(default=None, alias="dataType")
    length: WireInt | None = None
    is_required: WireBool = Field(default=False, alias="isRequired")
    is_read_only: WireBool = Field(default=False, alias="isReadOnly")
    is_queryable: WireBool = Field(default=True, alias="isQueryable")
    is_reference: WireBool = Field(default=False, alias="isReference")
    reference_entity_type: WireText | None = Field(default=None, alias="referenceEntityType")
    is_pick_list: WireBool = Field(default=False, alias="isPickList")
    picklist_values: list[PicklistValue] | None = Field(default=None, alias="picklistValues")
    picklist_parent_value_field: WireText | None = Field(default=None, alias="picklistParentValueField")
    is_supported_webhook_field: WireBool | None = Field(default=None, alias="isSupportedWebhookField")


class FieldsResponse(AutotaskModel):
    fields: list[FieldInformation]

    def field(self, name: str) -> FieldInformation | None:
        """A field by wire name, compared case-insensitively (Autotask is not consistent about casing)."""
        wanted = name.lower()
        return next((f for f in self.fields if f.name.lower() == wanted), None)


class EntityInformation(AutotaskModel):
    name: WireText
    can_create: WireBool = Field(default=False, alias="canCreate")
    can_delete: WireBool = Field(default=False, alias="canDelete")
    can_query: WireBool = Field(default=False, alias="canQuery")
    can_update: WireBool = Field(default=False, alias="canUpdate")
    has_user_defined_fields: WireBool = Field(default=False, alias="hasUserDefinedFields")
    supports_webhook_callouts: WireBool = Field(default=False, alias="supportsWebhookCallouts")


class EntityInformationResponse(AutotaskModel):
    info: EntityInformation


class ZoneInformation(AutotaskModel):
    """``zoneInformation``: ``url`` is the zone's REST base ending in ``ATServicesRest/``."""

    zone_name: WireText | None = Field(default=None, alias="zoneName")
    url: WireText
    web_url: WireText | None = Field(default=None, alias="webUrl")
    ci: WireInt | None = None


class ThresholdInformation(AutotaskModel):
    external_request_threshold: WireCount = Field(alias="externalRequestThreshold")
    request_threshold_timeframe: WireCount = Field(alias="requestThresholdTimeframe")
    current_timeframe_request_count: WireCount = Field(alias="currentTimeframeRequestCount")


# -- the currency chain: Contracts -> Companies -> Currencies ---------------------------------------
# Read only to learn a contract's currency. Field names are the swagger's own (its ContractModel, CompanyModel and
# CurrencyModel are camelCase, checked against ../shared/specs); the rest is kept as extras.


class Contract(AutotaskModel):
    """A ``Contracts`` record, reduced to what currency resolution needs (other fields land in extras)."""

    id: WireIntId | None = None
    company_id: WireIntId | None = Field(default=None, alias="companyID")
    contract_type: WireIntId | None = Field(default=None, alias="contractType")
    contract_name: WireText | None = Field(default=None, alias="contractName")
    status: WireIntId | None = None
    bill_to_company_id: WireIntId | None = Field(default=None, alias="billToCompanyID")


class Company(AutotaskModel):
    """A ``Companies`` record. ``currencyID`` is set only when the Multi-currency module is on, and may be null."""

    id: WireIntId | None = None
    company_name: WireText | None = Field(default=None, alias="companyName")
    currency_id: WireIntId | None = Field(default=None, alias="currencyID")


class Currency(AutotaskModel):
    """A ``Currencies`` record (exists only with the Multi-currency module). ``name`` is the 3-letter code."""

    id: WireIntId | None = None
    name: WireText | None = None
    description: WireText | None = None
    is_internal_currency: WireBool | None = Field(default=None, alias="isInternalCurrency")
    is_active: WireBool | None = Field(default=None, alias="isActive")
    #: The swagger's CurrencyModel names it ``exchangeRate``.
    exchange_rate: WireDecimal | None = Field(default=None, alias="exchangeRate")


class ContractItemResponse(AutotaskModel):
    item: Contract | None


class CompanyItemResponse(AutotaskModel):
    item: Company | None


class CurrencyItemResponse(AutotaskModel):
    item: Currency | None


class CurrenciesResponse(AutotaskModel):
    items: list[Currency]
    page_details: PageDetails = Field(alias="pageDetails")


class ErrorBody(AutotaskModel):
    """``{"errors": ["message", ...]}``; some deployments send ``[{"message", "field"}]`` items."""

    errors: list[Any] = Field(default_factory=list)
