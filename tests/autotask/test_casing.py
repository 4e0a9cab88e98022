"""Issue 18 point 5: Autotask field names are matched case-insensitively on read.

The server treats field names without regard to case, and PascalCase answers exist (older tooling, proxies that
re-serialise .NET models). Read by exact name, such a page was an empty listing or "no status picklist".
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError as PydanticValidationError

from billing_milestones import errors
from billing_milestones.autotask.wire import ContractMilestone, ItemsResponse

from .scripted import CID, CONTRACT, FIELDS, Scripted, chain, record


def pascal(data: Any) -> Any:
    """Every key with its first letter upper-cased (``contractID`` -> ``ContractID``), values untouched."""
    if isinstance(data, dict):
        return {(k[:1].upper() + k[1:]): pascal(v) for k, v in data.items()}
    if isinstance(data, list):
        return [pascal(v) for v in data]
    return data


def listing(server: Scripted) -> list[tuple[Any, ...]]:
    with server.client() as client:
        return [(m.key, m.title, m.amount, m.due, m.status) for m in client.milestones.list(str(CID))]


def test_a_pascal_case_tenant_lists_the_same_milestones() -> None:
    pages = chain([record(1), record(2, status=2)], [record(3, title="Last")])
    camel = listing(Scripted(pages=pages))
    assert len(camel) == 3
    shouted = Scripted(pages=pascal(pages), fields=pascal(FIELDS), contract=pascal(CONTRACT))
    assert listing(shouted) == camel
    assert shouted.count(r"/query(/next)?$") == 2  # PageDetails.NextPageUrl was followed


def test_a_pascal_case_picklist_is_read() -> None:
    server = Scripted(fields=pascal(FIELDS))
    with server.client() as client:
        assert dict(client.contract_milestones.status_picklist().labels) == {
            1: "Not Ready to Bill",
            2: "Ready to Bill",
            3: "Billed",
        }


def test_keys_in_any_casing_read_as_the_declared_field_and_raw_is_camel_case() -> None:
    m = ContractMilestone.model_validate({"ID": 5, "CONTRACTID": 7, "Title": "t", "dateDUE": "2026-01-31T00:00:00"})
    assert (m.id, m.contract_id, m.title, m.date_due.isoformat() if m.date_due else None) == (
        5,
        7,
        "t",
        "2026-01-31T00:00:00",
    )
    assert m.raw() == {"id": 5, "contractID": 7, "title": "t", "dateDue": "2026-01-31T00:00:00"}
    assert m.extra_fields == {}
    kept = ContractMilestone.model_validate({"id": 1, "SomeFutureField": 1})
    assert kept.extra_fields == {"SomeFutureField": 1}  # unknown keys stay as the server spelt them


def test_one_field_twice_in_two_casings_is_refused() -> None:
    with pytest.raises(PydanticValidationError, match="another casing"):
        ContractMilestone.model_validate({"id": 1, "amount": 1, "Amount": 2})


def test_a_pascal_case_page_missing_a_key_is_still_refused() -> None:
    with pytest.raises(PydanticValidationError):
        ItemsResponse.model_validate({"Items": [], "PageDetails": {"Count": 0, "RequestCount": 500}})


@pytest.mark.parametrize("key", ["Errors", "ERRORS"])
def test_an_error_body_in_another_casing_on_a_200_raises(key: str) -> None:
    server = Scripted(pages=[{key: ["The logged in Resource does not have the adequate permissions"]}])
    with server.client() as client, pytest.raises(errors.PermissionDeniedError):
        list(client.contract_milestones.query())
    other = Scripted(get={key: ["Something broke"]})
    with other.client() as client, pytest.raises(errors.APIStatusError, match="error body"):
        client.contract_milestones.get(1)
