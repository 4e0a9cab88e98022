"""Kantata wire models against the documented payload shapes."""

from __future__ import annotations

import datetime as dt

import pydantic
import pytest

from billing_milestones import errors
from billing_milestones.kantata import (
    BillingMilestone,
    BillingMilestoneCreate,
    BillingMilestoneUpdate,
    BillingType,
    Envelope,
    ExternalReference,
    ExternalReferenceInput,
    Invoice,
    Meta,
    ResultRef,
    Story,
    Workspace,
)

MILESTONE = {
    "id": "70001",
    "title": "Deposit",
    "amount_in_cents": -10000,
    "currency": "USD",
    "billing_type": "fixed_date",
    "date_to_invoice": "2026-02-01",
    "story_id": None,
    "workspace_id": "1001",
    "invoice_id": "30001",
    "invoice_ids": ["30001"],
    "external_reference_ids": ["90001"],
    "created_at": "2013-04-15T16:48:48-07:00",
    "updated_at": "2013-04-15T16:48:48-07:00",
}


def test_billing_milestone_parses_every_documented_field() -> None:
    m = BillingMilestone.model_validate(MILESTONE)
    assert m.id == "70001"
    assert m.amount_in_cents == -10000
    assert m.date_to_invoice == dt.date(2026, 2, 1)
    assert m.workspace_id == "1001"
    assert m.invoice_ids == ["30001"]
    assert m.external_reference_ids == ["90001"]
    assert m.created_at is not None and m.created_at.utcoffset() == dt.timedelta(hours=-7)
    assert m.invoiced


def test_integer_ids_are_normalised_to_strings() -> None:
    m = BillingMilestone.model_validate({**MILESTONE, "id": 5, "workspace_id": 7, "invoice_ids": [1, 2]})
    assert (m.id, m.workspace_id, m.invoice_ids) == ("5", "7", ["1", "2"])


def test_unknown_fields_survive_in_extra_and_raw() -> None:
    m = BillingMilestone.model_validate({**MILESTONE, "new_server_field": {"a": 1}})
    assert m.extra_fields == {"new_server_field": {"a": 1}}
    assert m.raw()["new_server_field"] == {"a": 1}
    assert m.raw()["date_to_invoice"] == "2026-02-01"


def test_missing_required_field_is_rejected() -> None:
    with pytest.raises(pydantic.ValidationError):
        BillingMilestone.model_validate({k: v for k, v in MILESTONE.items() if k != "amount_in_cents"})


def test_envelope_walks_results_not_the_map() -> None:
    body = {
        "count": 2,
        "meta": {"count": 2, "page_count": 1, "page_number": 1, "page_size": 200},
        "results": [{"key": "stories", "id": "2"}, {"key": "stories", "id": "1"}],
        "stories": {
            "1": {"id": "1", "title": "a", "state": "completed"},
            "2": {"id": "2", "title": "b", "state": "started"},
            "3": {"id": "3", "title": "sub-story, side-loaded", "state": "started"},
        },
    }
    env = Envelope.model_validate(body)
    assert [r.id for r in env.results] == ["2", "1"]
    assert env.meta is not None and env.meta.page_count == 1
    assert set(env.map_for("stories")) == {"1", "2", "3"}
    assert env.has_map("stories") and not env.has_map("workspaces")
    assert isinstance(env.stories["1"], Story) and env.stories["1"].completed


def test_envelope_keeps_untyped_maps_as_raw_dicts() -> None:
    env = Envelope.model_validate({"count": 0, "results": [], "users": {"9": {"id": "9"}}})
    assert env.map_for("users") == {"9": {"id": "9"}}
    assert env.has_map("users")


def test_workspace_currency_fields() -> None:
    ws = Workspace.model_validate({"id": "1", "currency": "KWD", "currency_base_unit": 1000, "currency_symbol": "KD"})
    assert (ws.currency, ws.currency_base_unit) == ("KWD", 1000)


def test_create_body_sends_ids_as_ints_and_leaves_out_unset_fields() -> None:
    body = BillingMilestoneCreate(
        title="Deposit",
        amount_in_cents=500,
        workspace_id="1001",
        billing_type=BillingType.UPON_COMPLETION,
        story_id="5001",
        external_reference=ExternalReferenceInput(
            service_name="billing-milestones", service_model="billing_milestone", service_model_ref="k-1"
        ),
    )
    assert body.to_wire() == {
        "title": "Deposit",
        "amount_in_cents": 500,
        "workspace_id": 1001,
        "billing_type": "upon_completion",
        "story_id": 5001,
        "external_reference": {
            "service_name": "billing-milestones",
            "service_model": "billing_milestone",
            "service_model_ref": "k-1",
        },
    }


def test_create_body_refuses_a_float_amount() -> None:
    with pytest.raises(errors.ValidationError) as caught:
        BillingMilestoneCreate(title="x", amount_in_cents=12.0, workspace_id="1")
    assert caught.value.field == "amount_in_cents"


def test_update_body_sends_only_given_fields_and_explicit_nulls() -> None:
    body = BillingMilestoneUpdate(title="New", date_to_invoice=None)
    assert body.to_wire() == {"title": "New", "date_to_invoice": None}
    assert BillingMilestoneUpdate().is_empty
    assert not body.is_empty
    assert "workspace_id" not in BillingMilestoneUpdate.model_fields


def test_side_loads_attach_without_entering_raw() -> None:
    m = BillingMilestone.model_validate(MILESTONE)
    assert m.external_references == [] and not m.external_references_loaded
    m.attach(story=Story(id="5", state="completed"), external_references=[])
    assert m.story is not None and m.story.completed
    assert m.external_references_loaded
    assert "story" not in m.raw()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount_in_cents", True),  # issue 10: true became 1 cent
        ("amount_in_cents", False),
        ("amount_in_cents", "100"),
        ("amount_in_cents", 100.0),
        ("amount_in_cents", 2**53 + 1),
        ("id", True),
        ("id", 70001.0),
        ("id", "-1"),
        ("id", ""),
        ("workspace_id", True),
        ("workspace_id", None),
        ("story_id", False),
        ("invoice_id", "INV-1"),
        ("invoice_ids", ["1", True]),
        ("invoice_ids", "1"),
        ("external_reference_ids", [1.5]),
        ("title", 5),
        ("title", None),
        ("date_to_invoice", 20260201),
        ("date_to_invoice", "01/02/2026"),
        ("created_at", 1700000000),
    ],
)
def test_wrong_types_are_refused_not_coerced(field: str, value: object) -> None:
    with pytest.raises(pydantic.ValidationError):
        BillingMilestone.model_validate({**MILESTONE, field: value})


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (Workspace, {"id": "1", "currency_base_unit": True}),
        (Workspace, {"id": "1", "currency_base_unit": "100"}),
        (Workspace, {"id": False}),
        (Story, {"id": "1", "workspace_id": True}),
        (ExternalReference, {"service_name": "x", "locked": "yes"}),
        (ExternalReference, {"service_name": "x", "service_model_ref": True}),
        (ExternalReference, {"service_name": "x", "subject_id": True}),
        (Invoice, {"id": "1", "draft": 1}),
        (Invoice, {"id": "1", "balance_in_cents": True}),
        (Meta, {"count": True, "page_count": 1, "page_number": 1}),
        (Meta, {"count": 1, "page_count": 1.0, "page_number": 1}),
        (Meta, {"count": 1, "page_count": 1, "page_number": "1"}),
        (Meta, {"count": 1, "page_count": 1, "page_number": 1, "page_size": 0}),
        (Meta, {"count": 1, "page_count": 1}),
        (ResultRef, {"key": "billing_milestones", "id": True}),
        (ResultRef, {"key": "", "id": "1"}),
        (ResultRef, {"id": "1"}),
        (Envelope, {"results": []}),
        (Envelope, {"count": 0}),
        (Envelope, {"count": -1, "results": []}),
        (Envelope, {"count": 0, "results": [], "billing_milestones": []}),
    ],
)
def test_other_wire_objects_refuse_wrong_types(model: type[pydantic.BaseModel], data: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        model.model_validate(data)


def test_documented_spellings_still_parse() -> None:
    """Integer ids (the spec's subject_id is an int) are spelled as digits; a numeric reference is text."""
    ref = ExternalReference.model_validate(
        {"id": 90001, "service_name": "x", "service_model_ref": 77, "subject_id": 70001, "locked": False}
    )
    assert (ref.id, ref.service_model_ref, ref.subject_id, ref.locked) == ("90001", "77", "70001", False)
    meta = Meta.model_validate({"count": 0, "page_count": 0, "page_number": 1})
    assert meta.page_size is None
