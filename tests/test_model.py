"""The common Milestone model: frozen, validated with our own errors, JSON round trips."""

from __future__ import annotations

import copy
import datetime as dt
import json
import pickle
from decimal import Decimal
from typing import Any

import pydantic
import pytest

from billing_milestones.errors import ValidationError
from billing_milestones.model import (
    SYNC_SERVICE_NAME,
    ChangeKind,
    ExternalRef,
    FieldChange,
    Milestone,
    MilestoneKey,
    MilestoneStatus,
    Platform,
    Trigger,
    TriggerKind,
    shared_fields,
)
from billing_milestones.money import Money


def full_milestone() -> Milestone:
    return Milestone(
        key=MilestoneKey(platform=Platform.KANTATA, id="456", container_id="123"),
        title="Design sign-off",
        description="first payment",
        amount=Money("1250.50", "USD"),
        percentage=Decimal("12.5"),
        due=dt.date(2026, 3, 31),
        trigger=Trigger.on_completion("story-9"),
        status=MilestoneStatus.BILLED,
        locked=True,
        external_refs=(ExternalRef(service="crm", ref="x-1", model="order"),),
        raw={"id": "456", "amount_in_cents": 125050, "nested": {"a": [1, 2]}},
        changes=(FieldChange(field="percentage", kind=ChangeKind.DERIVED, after="12.5", reason="total known"),),
    )


def test_defaults() -> None:
    m = Milestone(title="x", amount=Money("1", "USD"))
    assert m.key is None
    assert m.trigger == Trigger.fixed_date()
    assert m.status is MilestoneStatus.PLANNED
    assert (m.is_initial_payment, m.locked, m.external_refs, m.changes, dict(m.raw)) == (False, False, (), (), {})


def test_frozen() -> None:
    m = full_milestone()
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        m.title = "other"  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        m.key.id = "1"  # type: ignore[misc,union-attr]
    with pytest.raises(ValidationError, match="Extra inputs") as info:
        Milestone(title="x", amount=Money("1", "USD"), colour="red")  # type: ignore[call-arg]
    assert (info.value.field, info.value.value) == ("colour", "red")
    assert m.model_copy(update={"title": "other"}).title == "other"
    assert m.title == "Design sign-off"


def _refused(**fields: Any) -> ValidationError:
    data: dict[str, Any] = {"title": "t", "amount": Money("1", "USD"), **fields}
    with pytest.raises(ValidationError) as info:
        Milestone(**data)
    return info.value


@pytest.mark.parametrize(
    ("fields", "field", "value", "text"),
    [
        ({"title": ""}, "title", "", "at least 1 character"),
        ({"percentage": 101}, "percentage", 101, "within 0..100, got 101"),
        ({"percentage": Decimal("-0.01")}, "percentage", Decimal("-0.01"), "within 0..100"),
        ({"percentage": 12.5}, "percentage", 12.5, "float 12.5 refused"),
        ({"percentage": "abc"}, "percentage", "abc", "not a decimal"),
        ({"due": dt.datetime(2026, 1, 2, 3, 4)}, "due", dt.datetime(2026, 1, 2, 3, 4), "got a datetime"),
        ({"amount": 12.5}, "amount", 12.5, "float 12.5 refused"),
        ({"status": "sent"}, "status", "sent", "planned"),
        ({"trigger": {"kind": "fixed_date", "ref": "s1"}}, "trigger.ref", "s1", "takes no ref"),
        ({"status": MilestoneStatus.BILLED}, "locked", False, "BILLED milestone is locked"),
        ({"amount": None}, "amount", None, "needs an amount, or a percentage"),
    ],
)
def test_validation_errors_name_the_field_and_the_value(
    fields: dict[str, Any], field: str, value: Any, text: str
) -> None:
    err = _refused(**fields)
    assert isinstance(err, ValueError)
    assert err.field == field
    assert err.value == value
    assert type(err.value) is type(value)
    assert text in str(err)
    assert f"Milestone.{field}" in str(err)
    assert repr(value) in str(err) or value is None


@pytest.mark.parametrize(
    ("kind", "ref", "text"),
    [
        (TriggerKind.FIXED_DATE, "s1", "takes no ref, got 's1'"),
        (TriggerKind.ON_STAGE, None, "ON_STAGE trigger needs ref"),
        (TriggerKind.ON_COMPLETION, "", "ON_COMPLETION trigger needs ref"),
    ],
)
def test_trigger_kind_and_ref_must_agree(kind: TriggerKind, ref: str | None, text: str) -> None:
    with pytest.raises(ValidationError, match=text) as info:
        Trigger(kind=kind, ref=ref)
    assert info.value.field == "ref"
    assert info.value.value == ref


def test_trigger_constructors() -> None:
    assert Trigger.on_stage(7) == Trigger(kind=TriggerKind.ON_STAGE, ref="7")  # type: ignore[arg-type]
    assert Trigger.on_completion("s").kind is TriggerKind.ON_COMPLETION
    assert Trigger.fixed_date().ref is None


def test_percentage_only_and_exact_percentage() -> None:
    m = Milestone(title="deposit", percentage="33.3333")
    assert m.amount is None
    assert m.percentage == Decimal("33.3333")
    assert isinstance(m.percentage, Decimal)
    assert Milestone(title="x", percentage=100).percentage == 100


def test_model_validate_raises_our_error_too() -> None:
    with pytest.raises(ValidationError, match="title") as info:
        Milestone.model_validate({"title": "", "amount": "1 USD"})
    assert (info.value.field, info.value.value) == ("title", "")
    with pytest.raises(ValidationError, match="percentage") as info:
        Milestone.model_validate_json('{"title": "x", "percentage": "101"}')
    assert info.value.field == "percentage"


def test_milestone_key_text_round_trip() -> None:
    key = MilestoneKey(platform=Platform.CRMCOM, id="est-1:stage-2", container_id="orders/9")
    assert str(key) == "crmcom:orders/9/est-1:stage-2"
    assert MilestoneKey.parse(str(key)) == key
    simple = MilestoneKey.parse("autotask:100/200")
    assert (simple.platform, simple.container_id, simple.id) == (Platform.AUTOTASK, "100", "200")


@pytest.mark.parametrize(("text", "field"), [("no-colon", "key"), ("kantata:123", "key"), ("bogus:1/2", "platform")])
def test_milestone_key_parse_refuses_bad_text(text: str, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        MilestoneKey.parse(text)
    assert info.value.field == field


def test_milestone_key_requires_ids() -> None:
    with pytest.raises(ValidationError) as info:
        MilestoneKey(platform="kantata", id="", container_id="1")
    assert info.value.field == "id"


def test_sync_key() -> None:
    m = full_milestone()
    assert m.sync_key is None
    keyed = m.with_sync_key("sk-1")
    assert keyed.sync_key == "sk-1"
    assert m.sync_key is None  # the original is untouched
    rekeyed = keyed.with_sync_key("sk-2")
    assert rekeyed.sync_key == "sk-2"
    services = [r.service for r in rekeyed.external_refs]
    assert services.count(SYNC_SERVICE_NAME) == 1
    assert "crm" in services  # other references are kept


def test_json_round_trip() -> None:
    m = full_milestone().with_sync_key("sk-1")
    text = m.model_dump_json()
    data = json.loads(text)
    assert data["amount"] == {"amount": "1250.50", "currency": "USD"}
    assert data["percentage"] == "12.5"
    assert data["due"] == "2026-03-31"
    back = Milestone.model_validate_json(text)
    assert back == m
    assert str(back.amount.amount) == "1250.50"  # type: ignore[union-attr]
    assert back.sync_key == "sk-1"
    assert Milestone.model_validate(m.model_dump()) == m


def test_business_fields_leave_out_identity_and_payloads() -> None:
    m = full_milestone()
    fields = m.business_fields()
    assert {"key", "raw", "changes", "external_refs", "locked"}.isdisjoint(fields)
    assert fields["title"] == "Design sign-off"
    assert fields["amount"] == Money("1250.50", "USD")


def test_field_change_text() -> None:
    change = FieldChange(field="title", kind=ChangeKind.TRUNCATED, before="a" * 3, after="a", reason="max 1")
    assert str(change) == "title truncated: 'aaa' -> 'a' (max 1)"


def test_a_shared_fields_set_refuses_every_change_and_copies_out_as_a_plain_set() -> None:
    # The trusted reads give every instance of one shape the same fields set: no instance may change it.
    shared = shared_fields(frozenset({"platform", "id", "container_id"}))
    key = MilestoneKey._trusted({"platform": Platform.KANTATA, "id": "4", "container_id": "9"}, shared)
    other = MilestoneKey._trusted({"platform": Platform.KANTATA, "id": "5", "container_id": "9"}, shared)
    changes: list[Any] = [
        lambda s: s.add("x"),
        lambda s: s.discard("id"),
        lambda s: s.remove("id"),
        lambda s: s.pop(),
        lambda s: s.clear(),
        lambda s: s.update({"x"}),
        lambda s: s.difference_update({"id"}),
        lambda s: s.intersection_update({"id"}),
        lambda s: s.symmetric_difference_update({"x"}),
        lambda s: s.__ior__({"x"}),
        lambda s: s.__iand__({"id"}),
        lambda s: s.__isub__({"id"}),
        lambda s: s.__ixor__({"x"}),
        lambda s: s.__init__(["x"]),
    ]
    for change in changes:
        with pytest.raises(TypeError):
            change(key.model_fields_set)
    assert other.model_fields_set == {"platform", "id", "container_id"} and repr(shared) == repr(set(shared))
    with pytest.raises(TypeError):
        type(shared)(["x"])  # made by shared_fields only
    # Every copy is a plain set of the same names, so a copied model's set is its own and can grow.
    for copied in (
        copy.copy(shared),
        copy.deepcopy(shared),
        shared.copy(),
        shared | set(),
        pickle.loads(pickle.dumps(shared)),
    ):
        assert type(copied) is set and copied == shared
    moved = key.model_copy(update={"id": "6"})
    assert type(moved.model_fields_set) is set and moved.model_fields_set == shared
    grown = Milestone._trusted(full_milestone().__dict__ | {}, shared_fields(frozenset({"title"})))
    described = grown.model_copy(update={"description": "x"}, deep=True)
    assert described.model_fields_set == {"title", "description"} and grown.model_fields_set == {"title"}
    back = pickle.loads(pickle.dumps(key))
    assert back == key and type(back.model_fields_set) is set
    # pydantic's serializer reads it as the set it is.
    assert key.model_dump(exclude_unset=True) == MilestoneKey(platform="kantata", id="4", container_id="9").model_dump()
    assert key.model_dump_json(exclude_unset=True) == '{"platform":"kantata","id":"4","container_id":"9"}'
    assert grown.model_dump(exclude_unset=True) == {"title": "Design sign-off"}
