"""Autotask REST payloads with their exact camelCase wire names.

Python attributes are snake_case; the wire keys are the aliases. Unknown keys are kept (``WireModel`` has
``extra="allow"``) because Autotask adds fields without notice. ``amount`` is a Decimal parsed from the JSON
text itself (the HTTP core never lets a JSON number pass through float).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from pydantic import Field
from pydantic.config import JsonDict

from .._wire import WireDecimal, WireModel

__all__ = [
    "CONTRACT_MILESTONE_FIELDS",
    "DESCRIPTION_MAX",
    "READ_ONLY_FIELDS",
    "TITLE_MAX",
    "WRITABLE_FIELDS",
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
    "ZoneInformation",
]

_RO: Final[JsonDict] = {"readOnly": True}
#: Lengths from the field metadata; checked before sending, not on read (a server value is never refused).
TITLE_MAX: Final = 50
DESCRIPTION_MAX: Final = 250


class UserDefinedField(WireModel):
    name: str
    value: Any = None


class ContractMilestone(WireModel):
    """One ``ContractMilestones`` record (billing milestone of a Fixed Price contract)."""

    id: int | None = Field(default=None, json_schema_extra=_RO)
    contract_id: int | None = Field(default=None, alias="contractID", description="read-only after create")
    title: str | None = Field(default=None, json_schema_extra={"maxLength": TITLE_MAX})
    description: str | None = Field(default=None, json_schema_extra={"maxLength": DESCRIPTION_MAX})
    amount: WireDecimal | None = None
    internal_currency_amount: WireDecimal | None = Field(
        default=None, alias="internalCurrencyAmount", json_schema_extra=_RO
    )
    date_due: dt.datetime | None = Field(default=None, alias="dateDue")
    status: int | None = None
    is_initial_payment: bool | None = Field(default=None, alias="isInitialPayment")
    billing_code_id: int | None = Field(default=None, alias="billingCodeID")
    create_date: dt.datetime | None = Field(default=None, alias="createDate", json_schema_extra=_RO)
    creator_resource_id: int | None = Field(default=None, alias="creatorResourceID", json_schema_extra=_RO)
    organizational_level_association_id: int | None = Field(default=None, alias="organizationalLevelAssociationID")
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


class ItemResponse(WireModel):
    """``{"item": {...}}``; Autotask answers a missing id with ``item: null`` and HTTP 200."""

    item: ContractMilestone | None = None


class PageDetails(WireModel):
    count: int = 0
    request_count: int | None = Field(default=None, alias="requestCount")
    prev_page_url: str | None = Field(default=None, alias="prevPageUrl")
    next_page_url: str | None = Field(default=None, alias="nextPageUrl")


class ItemsResponse(WireModel):
    items: list[ContractMilestone] = Field(default_factory=list)
    page_details: PageDetails = Field(default_factory=PageDetails, alias="pageDetails")


class ItemIdResponse(WireModel):
    """What create, update (PATCH/PUT) return."""

    item_id: int = Field(alias="itemId")


class QueryCountResponse(WireModel):
    query_count: int = Field(alias="queryCount")


class PicklistValue(WireModel):
    """A picklist entry. ``value`` is a string on the wire even for integer fields."""

    value: str
    label: str
    is_default_value: bool = Field(default=False, alias="isDefaultValue")
    sort_order: int | None = Field(default=None, alias="sortOrder")
    parent_value: str | None = Field(default=None, alias="parentValue")
    is_active: bool = Field(default=True, alias="isActive")
    is_system: bool = Field(default=False, alias="isSystem")


class FieldInformation(WireModel):
    name: str
    data_type: str | None = Field(default=None, alias="dataType")
    length: int | None = None
    is_required: bool = Field(default=False, alias="isRequired")
    is_read_only: bool = Field(default=False, alias="isReadOnly")
    is_queryable: bool = Field(default=True, alias="isQueryable")
    is_reference: bool = Field(default=False, alias="isReference")
    reference_entity_type: str | None = Field(default=None, alias="referenceEntityType")
    is_pick_list: bool = Field(default=False, alias="isPickList")
    picklist_values: list[PicklistValue] | None = Field(default=None, alias="picklistValues")
    picklist_parent_value_field: str | None = Field(default=None, alias="picklistParentValueField")
    is_supported_webhook_field: bool | None = Field(default=None, alias="isSupportedWebhookField")


class FieldsResponse(WireModel):
    fields: list[FieldInformation] = Field(default_factory=list)

    def field(self, name: str) -> FieldInformation | None:
        """A field by wire name, compared case-insensitively (Autotask is not consistent about casing)."""
        wanted = name.lower()
        return next((f for f in self.fields if f.name.lower() == wanted), None)


class EntityInformation(WireModel):
    name: str
    can_create: bool = Field(default=False, alias="canCreate")
    can_delete: bool = Field(default=False, alias="canDelete")
    can_query: bool = Field(default=False, alias="canQuery")
    can_update: bool = Field(default=False, alias="canUpdate")
    has_user_defined_fields: bool = Field(default=False, alias="hasUserDefinedFields")
    supports_webhook_callouts: bool = Field(default=False, alias="supportsWebhookCallouts")


class EntityInformationResponse(WireModel):
    info: EntityInformation


class ZoneInformation(WireModel):
    """``zoneInformation``: ``url`` is the zone's REST base ending in ``ATServicesRest/``."""

    zone_name: str | None = Field(default=None, alias="zoneName")
    url: str
    web_url: str | None = Field(default=None, alias="webUrl")
    ci: int | None = None


class ThresholdInformation(WireModel):
    external_request_threshold: int = Field(alias="externalRequestThreshold")
    request_threshold_timeframe: int = Field(alias="requestThresholdTimeframe")
    current_timeframe_request_count: int = Field(alias="currentTimeframeRequestCount")


# -- the currency chain: Contracts -> Companies -> Currencies ---------------------------------------
# Read only to learn a contract's currency. Field names are camelCase forms of the swagger's PascalCase
# ContractModel / CompanyModel / CurrencyModel ([S]: aenichols swagger-codegen docs); the rest is kept as extras.


class Contract(WireModel):
    """A ``Contracts`` record, reduced to what currency resolution needs (other fields land in extras)."""

    id: int | None = None
    company_id: int | None = Field(default=None, alias="companyID")
    contract_type: int | None = Field(default=None, alias="contractType")
    contract_name: str | None = Field(default=None, alias="contractName")
    status: int | None = None
    bill_to_company_id: int | None = Field(default=None, alias="billToCompanyID")


class Company(WireModel):
    """A ``Companies`` record. ``currencyID`` is set only when the Multi-currency module is on, and may be null."""

    id: int | None = None
    company_name: str | None = Field(default=None, alias="companyName")
    currency_id: int | None = Field(default=None, alias="currencyID")


class Currency(WireModel):
    """A ``Currencies`` record (exists only with the Multi-currency module). ``name`` is the 3-letter code."""

    id: int | None = None
    name: str | None = None
    description: str | None = None
    is_internal_currency: bool | None = Field(default=None, alias="isInternalCurrency")
    is_active: bool | None = Field(default=None, alias="isActive")
    #: The swagger's CurrencyModel names it ``ExchangeRate`` ([S]); another spelling is kept as an extra.
    exchange_rate: WireDecimal | None = Field(default=None, alias="exchangeRate")


class ContractItemResponse(WireModel):
    item: Contract | None = None


class CompanyItemResponse(WireModel):
    item: Company | None = None


class CurrencyItemResponse(WireModel):
    item: Currency | None = None


class CurrenciesResponse(WireModel):
    items: list[Currency] = Field(default_factory=list)
    page_details: PageDetails = Field(default_factory=PageDetails, alias="pageDetails")


class ErrorBody(WireModel):
    """``{"errors": ["message", ...]}``; some deployments send ``[{"message", "field"}]`` items."""

    errors: list[Any] = Field(default_factory=list)
