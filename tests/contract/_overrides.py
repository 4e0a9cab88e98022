"""THE table of places where a vendor's description is wrong or silent, each corrected once, with its reason.

The contract tests read the descriptions in ``../shared/specs/`` as published and apply these rows before
checking anything; no other module patches a description. A row is a JSON-pointer edit (``set`` a value,
``merge`` keys into an object, ``remove`` a key, ``move`` it to another name) on one platform's document.
Each reason names its evidence: the specs README, the description's own examples, the reference notes in
``../shared/reference/`` or the official Ruby gem. Rows marked [assumption] rest on no vendor text; the
platform docs list them as assumptions.

Autotask's rows are pointers into the vendor's own swagger 2.0 text, which ``_swagger2`` converts after the
rows apply (swagger 2.0 has no ``nullable``: its rows add ``x-nullable``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["OVERRIDES", "Override", "apply_overrides"]


@dataclass(frozen=True)
class Override:
    platform: str
    #: JSON pointers (``/components/schemas/BillingMilestone/properties/id``); ``~1`` is a ``/`` in a path key.
    where: tuple[str, ...]
    #: ``move``: rename the key at the pointer to ``value`` (same parent).
    action: Literal["set", "merge", "remove", "move"]
    value: Any
    reason: str


_KM = "/components/schemas/BillingMilestone/properties"
_KR = "/components/schemas/ExternalReference/properties"
_NULLABLE = {"nullable": True}
_CRM_AUTH = "/paths/~1self-service~1v2~1contacts~1authenticate/post"
_CRM_ORDERS = "/paths/~1self-service~1v2~1contacts~1{id}~1orders/get/responses/200/content/application~1json/schema"
_CRM_ESTIMATE = "/paths/~1self-service~1v2~1estimates~1orders/post/responses/200/content/application~1json/schema"
_CRM_ESTIMATE_REQ_EX = (
    "/paths/~1self-service~1v2~1estimates~1orders/post/requestBody/content/application~1json/examples/Example 1/value"
)
_CRM_REFRESH_200 = "/paths/~1self-service~1v2~1contacts~1refresh/post/responses/200/content/application~1json"
_CRM_GET = "/paths/~1self-service~1v2~1orders~1{id}/get/responses/200/content/application~1json/schema"
_AD = "/definitions"
_AZ = "/paths/~1V1.0~1ZoneInformation/get/parameters"
_X_NULLABLE = {"x-nullable": True}
#: Where the apigrate README (@apigrate/autotask-restapi, whose maintainer quotes live answers) shows the wire.
_APIGRATE = "the @apigrate/autotask-restapi README's live getEntity/fieldInfo answers"


def _query_next(entity: str, result: str) -> dict[str, Any]:
    """``POST /V1.0/<entity>/query/next``: the query operation replayed on the link ``pageDetails`` gives."""
    headers = [
        {"name": name, "in": "header", "required": name != "ImpersonationResourceId", "type": "string"}
        for name in ("ApiIntegrationCode", "UserName", "Secret", "ImpersonationResourceId")
    ]
    return {
        "post": {
            "consumes": ["application/json"],
            "produces": ["application/json"],
            "parameters": [
                {"name": "paging", "in": "query", "required": True, "type": "string"},
                {"name": "search", "in": "query", "required": False, "type": "string"},
                {"name": "queryModel", "in": "body", "required": True, "schema": {"$ref": f"#{_AD}/QueryModel"}},
                *headers,
            ],
            "responses": {"200": {"description": "OK", "schema": {"$ref": f"#{_AD}/{result}"}}},
        }
    }


OVERRIDES: tuple[Override, ...] = (
    # -- Kantata -----------------------------------------------------------------------------------------
    Override(
        "kantata",
        (
            f"{_KM}/id",
            f"{_KR}/id",
            "/components/schemas/Workspace/properties/id",
            "/components/schemas/Story/properties/id",
        ),
        "set",
        {"type": "string"},
        "BillingMilestone, Workspace and Story declare no `id` (specs README), yet results[].id and the map keys "
        "are ids and the gem lists `id` first among the attributes; ids in responses are strings",
    ),
    Override(
        "kantata",
        ("/x-unchecked-paths",),
        "set",
        ["/stories", "/stories/{id}"],
        "the excerpt transcribes billing_milestones and GET /workspaces/{id} only; the SDK also lists and gets "
        "stories (upon_completion triggers), which therefore stay unchecked (reference §7 describes them)",
    ),
    Override(
        "kantata",
        ("/x-path-suffixes",),
        "set",
        [".json"],
        "[assumption] no path in the description has a `.json` suffix (specs README), yet the docs' own examples "
        "use /workspaces.json and a third-party client says it is required (reference §1); the SDK appends it "
        "on request (json_suffix=True), so a path may carry it and is otherwise checked as without",
    ),
    Override(
        "kantata",
        ("/components/schemas/Error/properties/field",),
        "set",
        {"type": "string"},
        "the Error schema has type and message only, but the docs' errors section gives validation errors a "
        "`field` (reference §6: 'validation (includes field)')",
    ),
    Override(
        "kantata",
        ("/components/schemas/Story/properties/parent_id",),
        "merge",
        _NULLABLE,
        "[assumption] a top-level task has no parent; the schema does not say nullable and the emulator sends null",
    ),
    Override(
        "kantata",
        ("/components/securitySchemes/BearerToken",),
        "set",
        {"type": "http", "scheme": "bearer"},
        "written as an apiKey header named `Bearer` (specs README); the docs and the official gem send "
        "`Authorization: Bearer <token>`",
    ),
    Override(
        "kantata",
        ("/security",),
        "set",
        [{"BearerToken": []}],
        "no operation names a security requirement, yet every request needs the bearer token (reference §1: "
        "'every request needs Authorization: Bearer')",
    ),
    Override(
        "kantata",
        (
            f"{_KM}/story_id",
            f"{_KM}/invoice_id",
            f"{_KM}/date_to_invoice",
            f"{_KR}/external_message",
            f"{_KR}/external_link",
            f"{_KR}/external_status",
        ),
        "merge",
        _NULLABLE,
        "[assumption] nothing is marked nullable, but a milestone without a task or an invoice has no story_id or "
        "invoice_id to give, nor an upon_completion milestone a date (reference §4a: 'string or null', "
        "nullability inferred); the emulator sends null for them, as do the optional reference texts",
    ),
    # -- crm.com -----------------------------------------------------------------------------------------
    Override(
        "crmcom",
        (f"{_CRM_AUTH}/requestBody/content/application~1json/schema/required",),
        "set",
        ["provider"],
        "marks token, phone and mac_address required as well as username and password (specs README), "
        "against its own six examples, each of which sends only the fields of its provider",
    ),
    Override(
        "crmcom",
        ("/paths/~1self-service~1v2~1contacts~1refresh/post/requestBody",),
        "set",
        {
            "required": False,
            "content": {
                "application/json": {"schema": {"type": "object", "properties": {"refresh_token": {"type": "string"}}}}
            },
        },
        "[assumption] refresh documents no body (specs README) and says only 'based on a refresh token'; the SDK "
        "sends the refresh token as the Bearer token and, in case the service reads it there, as {refresh_token}",
    ),
    Override(
        "crmcom",
        (f"{_CRM_ORDERS}/properties/paging/properties/total",),
        "merge",
        _NULLABLE,
        "paging.total is documented as null unless include_total=true (the parameter's own description; "
        "reference §3), but the schema does not say nullable",
    ),
    Override(
        "crmcom",
        (
            f"{_CRM_ESTIMATE}/properties/milestone_plan_estimate/items/properties/percentage",
            f"{_CRM_ESTIMATE}/properties/orders/items/properties/milestone_plan_estimate/items/properties/percentage",
        ),
        "merge",
        _NULLABLE,
        "the milestone's percentage is null when the queue's applies (the amount field's own description: "
        "'if percentage is null, quotation amount x queue_percentage'), but the schema does not say nullable",
    ),
    Override(
        "crmcom",
        (
            f"{_CRM_GET}/properties/default_currency_code/pattern",
            f"{_CRM_ORDERS}/properties/content/items/properties/default_currency_code/pattern",
        ),
        "remove",
        None,
        "the pattern is prose ('3-letter ISO 4217 currency code.'), not a regular expression: as a regex it "
        "matches no currency code at all; minLength/maxLength 3 beside it say what was meant",
    ),
    Override(
        "crmcom",
        (f"{_CRM_ESTIMATE_REQ_EX}/line_items",),
        "move",
        "items",
        "the estimate request example names the items `line_items`; its own schema (and the SDK) call them "
        "`items`, which is required (specs README: the estimate example drifts from its schema)",
    ),
    Override(
        "crmcom",
        (f"{_CRM_ESTIMATE_REQ_EX}/delivery_method",),
        "set",
        "COURIER_SERVICE",
        "the estimate request example leaves out delivery_method, which its own schema requires",
    ),
    Override(
        "crmcom",
        (f"{_CRM_ESTIMATE}/../examples/Example 1",),
        "remove",
        None,
        "the estimate response example has no milestone_plan_estimate (and an empty id, `total_amount` for "
        "`total`: specs README); the SDK reads an estimate only for its plan and refuses a planless one "
        "(wire.OrderEstimate), so the example has nothing to parse",
    ),
    Override(
        "crmcom",
        (f"{_CRM_ORDERS}/../examples/Example 1", f"{_CRM_REFRESH_200}/examples/Example 1"),
        "remove",
        None,
        "not JSON: the list example is a string with a stray `r` after `custom_fields` (and a paging without "
        "has_more), the refresh example a string of members without the enclosing braces",
    ),
    # -- Autotask (swagger 2.0: the rows edit its own text, before _swagger2 converts it) ---------------------
    Override(
        "autotask",
        (f"{_AD}/Filter/properties/value",),
        "set",
        {
            "anyOf": [
                {"type": "integer"},
                {"type": "number"},
                {"type": "string"},
                {"type": "boolean"},
                {"type": "array", "items": {"anyOf": [{"type": "integer"}, {"type": "string"}]}},
            ]
        },
        "typed `object` (specs README) although its own description says 'an Integer, String, Boolean, an Array "
        "of Integers, or an Array of Strings'; a double field (amount) is compared with a number (reference §5)",
    ),
    Override(
        "autotask",
        (f"{_AD}/QueryModel/properties",),
        "merge",
        {
            "MaxRecords": {"format": "int32", "type": "integer", "minimum": 1, "maximum": 500},
            "IncludeFields": {"type": "array", "items": {"type": "string"}},
        },
        "the properties are camelCase (maxRecords, includeFields) but QueryModel's own example is PascalCase, "
        "the server binds either casing, and the clients the SDK follows send MaxRecords/IncludeFields (specs "
        "README; reference §5: AE, DJ, GO, AN); 1..500 is the documented page limit (reference §6)",
    ),
    Override(
        "autotask",
        ("/paths/~1V1.0~1ContractMilestones~1query~1next",),
        "set",
        _query_next("ContractMilestones", "QueryActionResult[ContractMilestoneModel,ContractMilestone]"),
        "not listed (specs README), yet pageDetails.nextPageUrl points there with ?paging=&search=, and a "
        "POST query's link is replayed with POST and the same body (reference §6: a GET answers 405)",
    ),
    Override(
        "autotask",
        ("/paths/~1V1.0~1Currencies~1query~1next",),
        "set",
        _query_next("Currencies", "QueryActionResult[CurrencyModel,Currency]"),
        "as for ContractMilestones: the swagger lists no query/next path, though a Currencies page links to one",
    ),
    Override(
        "autotask",
        (f"{_AZ}/1/required", f"{_AZ}/2/required", f"{_AZ}/3/required"),
        "set",
        False,
        "like every operation it marks the three credential headers required (specs README), but zone discovery "
        "runs before a client knows its zone and DJ calls it without them (reference §1)",
    ),
    Override(
        "autotask",
        ("/paths/~1V1.0~1ZoneInformation",),
        "move",
        "/V1.0/zoneInformation",
        "spelt ZoneInformation; the server matches paths case-insensitively and the official docs, DJ and GO "
        "(and the SDK) write zoneInformation (reference §1)",
    ),
    Override(
        "autotask",
        (f"{_AD}/OperationResultModel/properties/itemId",),
        "set",
        {"format": "int64", "type": "integer"},
        'a $ref to an empty object (specs README); create and update answer {"itemId": <the record id>} '
        "(reference §8: DJ reads it as the id)",
    ),
    Override(
        "autotask",
        (
            f"{_AD}/FieldInformationModel/properties/isSupportedWebhookField",
            f"{_AD}/Field/properties/isSupportedWebhookField",
        ),
        "set",
        {"type": "boolean"},
        f"typed object (specs README); a flag, false or true on the wire ({_APIGRATE})",
    ),
    Override(
        "autotask",
        (f"{_AD}/RestUserAccessLevel",),
        "set",
        {"type": "string"},
        f"an empty object in the swagger; a .NET enum the service writes by name, 'All', 'None' or "
        f"'Restricted' ({_APIGRATE})",
    ),
    Override(
        "autotask",
        (f"{_AD}/FieldInformationModel/properties/picklistValues", f"{_AD}/Field/properties/picklistValues"),
        "merge",
        _X_NULLABLE,
        f"swagger 2.0 says nothing of null; a field that is not a picklist has picklistValues null ({_APIGRATE})",
    ),
    Override(
        "autotask",
        (
            f"{_AD}/ItemQueryResultModel[ContractMilestoneModel,ContractMilestone]/properties/item",
            f"{_AD}/ItemQueryResultModel[ContractModel,Contract]/properties/item",
            f"{_AD}/ItemQueryResultModel[CompanyModel,Account]/properties/item",
            f"{_AD}/ItemQueryResultModel[CurrencyModel,Currency]/properties/item",
        ),
        "merge",
        _X_NULLABLE,
        "swagger 2.0 says nothing of null; a missing id answers 200 with item null, not 404 (reference §8, DJ "
        "treats a null item as not found)",
    ),
    Override(
        "autotask",
        (f"{_AD}/PagingModel/properties/prevPageUrl", f"{_AD}/PagingModel/properties/nextPageUrl"),
        "merge",
        _X_NULLABLE,
        "swagger 2.0 says nothing of null; the first page has no previous and the last no next link: "
        "'Stop when it is null' (reference §6, DJ fixtures)",
    ),
    Override(
        "autotask",
        (
            f"{_AD}/ContractMilestoneModel/properties/description",
            f"{_AD}/ContractMilestoneModel/properties/billingCodeID",
            f"{_AD}/ContractMilestoneModel/properties/organizationalLevelAssociationID",
            f"{_AD}/ContractModel/properties/billToCompanyID",
            f"{_AD}/CompanyModel/properties/currencyID",
            f"{_AD}/CurrencyModel/properties/updateResourceId",
        ),
        "merge",
        _X_NULLABLE,
        "swagger 2.0 says nothing of null; these are the optional fields (not required in the SOAP metadata, "
        "reference §4: description nullable, billingCodeID and the association optional; a company without "
        "the Multi-currency module's currencyID), which the service sends as null when unset",
    ),
    Override(
        "autotask",
        (f"{_AD}/ContractMilestoneModel/properties/dateDue",),
        "set",
        {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$"},
        "[assumption] `date-time` (RFC 3339) requires an offset, but a due date is a calendar day: the SDK sends "
        "it without a zone so the tenant keeps the day (reference §4: date-only semantics and the response "
        "format are unverified, 'parse leniently'); an ISO datetime with or without offset is accepted",
    ),
)


def apply_overrides(document: dict[str, Any], platform: str, overrides: Iterable[Override]) -> dict[str, Any]:
    """A copy of ``document`` with this platform's rows applied; a pointer that does not resolve is an error."""
    out = copy.deepcopy(document)
    for row in overrides:
        if row.platform != platform:
            continue
        for pointer in row.where:
            parts: list[str] = []
            for raw in pointer.lstrip("/").split("/"):  # ``..`` steps back up, so rows can share prefixes
                parts.pop() if raw == ".." else parts.append(raw.replace("~1", "/").replace("~0", "~"))
            *parents, last = parts
            node = out
            for part in parents:
                node = node[part] if isinstance(node, dict) else node[int(part)]
            if row.action == "set":
                node[last] = copy.deepcopy(row.value)
            elif row.action == "merge":
                node[last].update(copy.deepcopy(row.value))
            elif row.action == "move":
                node[row.value] = node.pop(last)
            else:
                del node[last]
    return out
