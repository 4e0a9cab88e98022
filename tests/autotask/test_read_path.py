"""An Autotask read builds its common models from the validated record without validating them again: the
result equals the validated model, records the same fields as set, and dumps its raw payload when read."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from billing_milestones._wire import LazyRaw
from billing_milestones.autotask import adapter
from billing_milestones.errors import TranslationError
from billing_milestones.model import Milestone, Trigger

from .test_adapter import PICKLIST, record


@pytest.mark.parametrize(
    "over",
    [{}, {"status": 3}, {"description": None}, {"isInitialPayment": True}, {"id": None}, {"description": "[bm:k1]"}],
)
def test_a_read_equals_the_validated_model(over: dict[str, Any]) -> None:
    wire = record(**over)
    m = adapter.to_milestone(wire, picklist=PICKLIST, currency="USD")
    validated = Milestone.model_validate({**m.model_dump(), "raw": wire.raw()})
    assert m == validated and m.model_dump(mode="json") == validated.model_dump(mode="json")
    assert m.model_fields_set == {
        "key", "title", "description", "amount", "due", "status", "is_initial_payment", "locked",
        "external_refs", "raw",
    }  # fmt: skip
    assert m.trigger is Trigger.fixed_date()


def test_the_raw_payload_is_the_record_dumped_when_first_read() -> None:
    wire = record()
    m = adapter.to_milestone(wire, picklist=PICKLIST, currency="USD")
    assert isinstance(m.raw, LazyRaw) and m.raw == wire.raw()
    assert pickle.loads(pickle.dumps(m)) == m
    assert m.sync_key == "sync-123" and m.external_refs[0].model_fields_set == {"service", "ref"}


def test_a_missing_title_is_still_refused_by_name() -> None:
    with pytest.raises(TranslationError) as caught:
        adapter.to_milestone(record(title=""), picklist=PICKLIST, currency="USD")
    assert caught.value.field == "title"
