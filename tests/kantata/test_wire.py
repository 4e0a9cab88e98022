"""Kantata wire models against the documented payload shapes."""

from __future__ import annotations

import datetime as dt

import pydantic
import pytest

from billing_milestones.kantata import (
    BillingMilestone,
    BillingMilestoneCreate,
    BillingMilestoneUpdate,
    BillingType,
    Envelope,
    ExternalReferenceInput,
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
    with pytest.raises(pydantic.ValidationError):
        BillingMilestoneCreate(title="x", amount_in_cents=12.0, workspace_id="1")


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
