"""The cheap read path keeps every promise of the validated one: the common models built from validated wire
values equal validated ones, raw is the wire payload (read when first needed), a blank title is still refused
by name, and wire objects carry their side-loads and response without per-object private attributes."""

from __future__ import annotations

import copy
import pickle

import pytest

from billing_milestones import errors
from billing_milestones._http import ResponseInfo
from billing_milestones._wire import LazyRaw
from billing_milestones.kantata import BillingMilestone, ExternalReference, to_milestone
from billing_milestones.kantata.adapter import raw_payload
from billing_milestones.model import ExternalRef, Milestone, Trigger

from .test_adapter import TODAY, USD, wire

REF = ExternalReference(service_name="billing-milestones", service_model="billing_milestone", service_model_ref="bm1")


@pytest.mark.parametrize(
    "overrides",
    [{}, {"billing_type": "upon_completion", "story_id": "55"}, {"invoice_id": "9"}, {"billing_type": None}],
)
def test_a_read_milestone_equals_the_validated_model_of_the_same_values(overrides: dict[str, object]) -> None:
    w = wire(**overrides).attach(external_references=[REF])
    m = to_milestone(w, USD, today=TODAY)
    validated = Milestone.model_validate({**m.model_dump(), "raw": raw_payload(w)})
    assert m == validated
    assert m.model_dump(mode="json") == validated.model_dump(mode="json")
    assert m.model_fields_set == {
        "key", "title", "amount", "due", "trigger", "status", "locked", "external_refs", "raw", "changes",
    }  # fmt: skip
    assert m.sync_key == "bm1"


def test_raw_is_the_wire_payload_read_when_first_needed() -> None:
    w = wire().attach(external_references=[REF])
    m = to_milestone(w, USD)
    assert isinstance(m.raw, LazyRaw)
    assert dict(m.raw) == raw_payload(w) and m.raw == raw_payload(w)
    assert m.raw["external_references"][0]["service_model_ref"] == "bm1"
    assert pickle.loads(pickle.dumps(m.raw)) == raw_payload(w)
    assert type(pickle.loads(pickle.dumps(m.raw))) is dict
    assert pickle.loads(pickle.dumps(m)) == m
    assert m.model_dump()["raw"] == raw_payload(w)
    assert '"amount_in_cents":12345' in m.model_dump_json()


def test_a_lazy_payload_is_built_once() -> None:
    calls = []

    def build() -> dict[str, object]:
        calls.append(1)
        return {"a": 1}

    raw = LazyRaw(build)
    assert calls == []
    assert len(raw) == 1 and raw["a"] == 1 and list(raw) == ["a"] and repr(raw) == "{'a': 1}"
    assert calls == [1]


def test_a_blank_title_is_still_refused_by_name() -> None:
    with pytest.raises(errors.ValidationError) as caught:
        to_milestone(wire(title=""), USD)
    assert caught.value.field == "title"


def test_every_fixed_date_trigger_is_one_shared_object() -> None:
    a, b = to_milestone(wire(), USD), to_milestone(wire(id="70002"), USD)
    assert a.trigger is b.trigger is Trigger.fixed_date()
    assert Milestone(title="x", percentage="5").trigger is Trigger.fixed_date()


def test_wire_objects_declare_no_private_attributes() -> None:
    assert BillingMilestone.__private_attributes__ == {}
    assert ExternalReference.__private_attributes__ == {}
    assert wire().__pydantic_private__ is None  # nothing made for an object nobody attached anything to


def test_side_loads_and_response_survive_copies_and_count_in_equality() -> None:
    info = ResponseInfo(platform="kantata", status_code=200, request_id="r1", retries_taken=0)
    w = wire().attach(external_references=[REF])
    w._bind_response(info)
    assert w.response_info is info and w.external_references == [REF] and w.external_references_loaded
    for other in (copy.copy(w), w.model_copy(), copy.deepcopy(w)):
        assert other.external_references == [REF] and other.response_info == info
    assert w != wire()  # side-loads count, as private attributes did
    assert wire().response_info is None and not wire().external_references_loaded
    assert wire().story is None and wire().workspace is None and wire().invoices == []


@pytest.mark.parametrize(("given", "kept"), [("70001", "70001"), (70001, "70001"), ("0070001", "70001"), ("0", "0")])
def test_ids_are_kept_in_canonical_digits(given: object, kept: str) -> None:
    assert wire(id=given).id == kept


@pytest.mark.parametrize("bad", ["9007199254740993", "-1", "7a", True, "٣"])
def test_ids_beyond_the_fast_path_are_still_checked(bad: object) -> None:
    with pytest.raises(Exception, match="id"):
        wire(id=bad)


@pytest.mark.parametrize("bad", [True, 2**53 + 1, "100", 1.5])
def test_cents_beyond_the_fast_path_are_still_checked(bad: object) -> None:
    with pytest.raises(Exception, match="amount_in_cents"):
        wire(amount_in_cents=bad)


@pytest.mark.parametrize(
    ("service", "ref", "kept"),
    [("quickbooks", "77", True), ("", "77", False), ("quickbooks", "", False)],
)
def test_a_lone_reference_is_read_as_the_validated_ref_or_skipped(service: str, ref: str, kept: bool) -> None:
    # One reference per milestone (the sync key) is the usual case, read without building a list.
    lone = ExternalReference(service_name=service, service_model="line", service_model_ref=ref, status="successful")
    refs = to_milestone(wire().attach(external_references=[lone]), USD).external_refs
    if not kept:
        assert refs == ()
        return
    validated = ExternalRef(service=service, ref=ref, model="line", status="successful")
    assert refs == (validated,) and hash(refs[0]) == hash(validated)
    assert refs[0].model_fields_set == validated.model_fields_set == {"service", "ref", "model", "status"}
    assert refs[0].model_dump() == validated.model_dump() and refs[0].model_extra is None
    assert refs[0].model_copy(update={"status": "failed"}).status == "failed"  # fields set is its own, mutable


def test_several_references_keep_their_order_and_skip_incomplete_ones() -> None:
    made = [
        ExternalReference(service_name="b", service_model_ref="2"),
        ExternalReference(service_name="", service_model_ref="3"),
        ExternalReference(service_name="a", service_model_ref="1"),
    ]
    refs = to_milestone(wire().attach(external_references=made), USD).external_refs
    assert refs == (ExternalRef(service="b", ref="2"), ExternalRef(service="a", ref="1"))
    # As a validated construction given all four (model and status None here) records them.
    assert refs == tuple(ExternalRef(service=r.service, ref=r.ref, model=None, status=None) for r in refs)
    assert [r.model_fields_set for r in refs] == [{"service", "ref", "model", "status"}] * 2
