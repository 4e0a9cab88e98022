"""Wire models against the documented payload shapes (camelCase keys, Decimal amounts, unknown keys kept)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing_milestones._http import loads
from billing_milestones.autotask.wire import (
    CONTRACT_MILESTONE_FIELDS,
    READ_ONLY_FIELDS,
    ContractMilestone,
    EntityInformationResponse,
    FieldsResponse,
    ItemIdResponse,
    ItemResponse,
    ItemsResponse,
    QueryCountResponse,
    ThresholdInformation,
    ZoneInformation,
)

RECORD = b"""{
  "id": 29684001, "contractID": 29683001, "title": "Design sign-off", "description": "Phase 1",
  "amount": 1234.10, "internalCurrencyAmount": 1142.69, "dateDue": "2026-03-31T00:00:00",
  "status": 2, "isInitialPayment": false, "billingCodeID": 29682801,
  "createDate": "2026-01-05T14:03:11.237Z", "creatorResourceID": 29682885,
  "organizationalLevelAssociationID": null, "userDefinedFields": [], "someFutureField": {"x": 1}
}"""


def test_contract_milestone_parses_documented_record() -> None:
    m = ContractMilestone.model_validate(loads(RECORD))
    assert m.id == 29684001 and m.contract_id == 29683001
    assert m.amount == Decimal("1234.10") and isinstance(m.amount, Decimal)
    assert str(m.amount) == "1234.10"  # the JSON digits, not a float's
    assert m.internal_currency_amount == Decimal("1142.69")
    assert m.date_due == dt.datetime(2026, 3, 31)
    assert m.create_date == dt.datetime(2026, 1, 5, 14, 3, 11, 237000, tzinfo=dt.UTC)
    assert m.status == 2 and m.is_initial_payment is False and m.billing_code_id == 29682801


def test_unknown_fields_survive_a_round_trip() -> None:
    m = ContractMilestone.model_validate(loads(RECORD))
    assert m.extra_fields == {"someFutureField": {"x": 1}}
    raw = m.raw()
    assert raw["someFutureField"] == {"x": 1}
    assert raw["contractID"] == 29683001 and "contract_id" not in raw


def test_float_amount_is_refused() -> None:
    with pytest.raises(Exception, match="float"):
        ContractMilestone.model_validate({"id": 1, "amount": 1.1})


@pytest.mark.parametrize("text", ["2026-03-31", "2026-03-31T00:00:00Z", "2026-03-31T00:00:00.5+02:00"])
def test_date_due_parsed_leniently(text: str) -> None:
    m = ContractMilestone.model_validate({"dateDue": text})
    assert m.date_due is not None and m.date_due.date() == dt.date(2026, 3, 31)


def test_read_only_fields_are_marked() -> None:
    schema = ContractMilestone.model_json_schema(by_alias=True)["properties"]
    for key in READ_ONLY_FIELDS:
        assert schema[key].get("readOnly") is True, key
    assert schema["title"]["maxLength"] == 50 and schema["description"]["maxLength"] == 250
    assert set(CONTRACT_MILESTONE_FIELDS.values()) >= {"contractID", "dateDue", "isInitialPayment", "billingCodeID"}


def test_envelopes() -> None:
    assert ItemResponse.model_validate({"item": None}).item is None
    page = ItemsResponse.model_validate(
        {
            "items": [loads(RECORD)],
            "pageDetails": {"count": 1, "requestCount": 500, "prevPageUrl": None, "nextPageUrl": "https://x/next"},
        }
    )
    assert page.items[0].title == "Design sign-off" and page.page_details.next_page_url == "https://x/next"
    assert ItemIdResponse.model_validate({"itemId": 7}).item_id == 7
    assert QueryCountResponse.model_validate({"queryCount": 1200}).query_count == 1200


def test_field_information_with_picklist() -> None:
    fields = FieldsResponse.model_validate(
        {
            "fields": [
                {
                    "name": "status",
                    "dataType": "integer",
                    "isPickList": True,
                    "isRequired": True,
                    "picklistValues": [
                        {
                            "value": "1",
                            "label": "Not Ready to Bill",
                            "isDefaultValue": True,
                            "sortOrder": 1,
                            "parentValue": "",
                            "isActive": True,
                            "isSystem": True,
                        },
                        {
                            "value": "3",
                            "label": "Billed",
                            "isDefaultValue": False,
                            "sortOrder": 3,
                            "parentValue": "",
                            "isActive": True,
                            "isSystem": True,
                        },
                    ],
                }
            ]
        }
    )
    status = fields.field("STATUS")
    assert status is not None and status.is_pick_list and status.picklist_values is not None
    assert [(p.value, p.label) for p in status.picklist_values] == [("1", "Not Ready to Bill"), ("3", "Billed")]
    assert fields.field("nope") is None


def test_entity_zone_threshold() -> None:
    info = EntityInformationResponse.model_validate(
        {
            "info": {
                "name": "ContractMilestone",
                "canCreate": True,
                "canDelete": False,
                "canQuery": True,
                "canUpdate": True,
                "hasUserDefinedFields": False,
                "userAccessForCreate": "All",
            }
        }
    ).info
    assert info.can_delete is False and info.extra_fields == {"userAccessForCreate": "All"}
    zone = ZoneInformation.model_validate(
        {
            "zoneName": "Pre-Release",
            "url": "https://webservices2.autotask.net/ATServicesRest/",
            "webUrl": "https://ww2.autotask.net/",
            "ci": 123,
        }
    )
    assert zone.url.endswith("ATServicesRest/") and zone.ci == 123
    t = ThresholdInformation.model_validate(
        {"externalRequestThreshold": 10000, "requestThresholdTimeframe": 60, "currentTimeframeRequestCount": 12}
    )
    assert t.current_timeframe_request_count == 12
