"""Trigger rules from mutation testing's survivors (issue 17): every trigger that crosses platforms records
what it was, what it became and which setting made it so; every refusal names the field, the trigger and
the setting that would carry it."""

from __future__ import annotations

import datetime as dt

import pytest

from billing_milestones import Platform, Trigger
from billing_milestones.errors import TranslationError
from billing_milestones.model import ChangeKind, FieldChange
from billing_milestones.sync import TriggerMap

from .test_triggers import D1, D2, FALLBACK, FIXED, MAP, WITH_FALLBACK, A, C, K

DERIVED, DEFAULTED = ChangeKind.DERIVED, ChangeKind.DEFAULTED
NO_STORY = "crm.com stage 'st-z' has no Kantata story in TriggerMap.stage_to_story"
NO_DATE = "story '77' has no due date in TriggerMap.due_dates for Autotask"
NO_STAGE = "trigger: crm.com milestones are tied to order stages; a fixed-date milestone has no stage "
CHOSEN = "; TriggerMap.fallback_due chosen by the caller"
ONE_STAGE = "from TriggerMap.due_dates (the one stage given this date)"
OWN_DATE = "Autotask bills by date; the milestone's own date is kept as dateDue"


@pytest.mark.parametrize(
    ("tmap", "trigger", "due", "target", "kind", "before", "after", "reason"),
    [
        (MAP, Trigger.on_stage("st-a"), None, K, DERIVED, "on_stage:st-a", "on_completion:41", "stage_to_story"),
        (MAP, Trigger.on_completion("41"), None, C, DERIVED, "on_completion:41", "on_stage:st-a", "stage_to_story"),
        (MAP, Trigger.on_stage("st-b"), None, A, DERIVED, "on_stage:st-b", "fixed_date:2027-01-15", "due_dates"),
        (MAP, Trigger.on_completion("77"), D2, A, DERIVED, "on_completion:77", "fixed_date", OWN_DATE),
        (MAP, FIXED, D1, C, DERIVED, "fixed_date:2027-01-15", "on_stage:st-b", ONE_STAGE),
        (
            WITH_FALLBACK,
            Trigger.on_stage("st-z"),
            None,
            K,
            DEFAULTED,
            "on_stage:st-z",
            "fixed_date:2027-12-31",
            NO_STORY + CHOSEN,
        ),
        (
            WITH_FALLBACK,
            Trigger.on_completion("77"),
            None,
            A,
            DEFAULTED,
            "on_completion:77",
            "fixed_date:2027-12-31",
            NO_DATE + CHOSEN,
        ),
    ],
    ids=[
        "stage-to-story",
        "story-to-stage",
        "due-dates",
        "own-date",
        "one-stage-by-date",
        "fallback",
        "fallback-story",
    ],
)
def test_a_crossing_trigger_records_what_it_was_what_it_became_and_why(
    tmap: TriggerMap,
    trigger: Trigger,
    due: dt.date | None,
    target: Platform,
    kind: ChangeKind,
    before: str,
    after: str,
    reason: str,
) -> None:
    why = reason if " " in reason else f"from TriggerMap.{reason}"
    _, _, changes = tmap.translate(trigger, due, target)
    assert changes == [FieldChange(field="trigger", kind=kind, before=before, after=after, reason=why)]


@pytest.mark.parametrize(
    ("tmap", "trigger", "due", "target", "message", "field", "source"),
    [
        (MAP, FIXED, None, K, "due: a Kantata fixed_date milestone needs a date and the source has none", "due", None),
        (
            MAP,
            FIXED,
            None,
            A,
            "due: an Autotask milestone (dateDue is required) needs a date and the source has none",
            "due",
            None,
        ),
        (MAP, Trigger.on_stage("st-z"), None, K, f"trigger: {NO_STORY}", "trigger", "st-z"),
        (
            MAP,
            Trigger.on_stage("st-z"),
            None,
            A,
            "trigger: stage 'st-z' has no due date in TriggerMap.due_dates for Autotask",
            "trigger",
            "st-z",
        ),
        (MAP, Trigger.on_completion("77"), None, A, f"trigger: {NO_DATE}", "trigger", "77"),
        (
            MAP,
            Trigger.on_completion("77"),
            None,
            C,
            "trigger: Kantata story '77' has no crm.com stage in TriggerMap.stage_to_story",
            "trigger",
            "77",
        ),
        (
            MAP,
            FIXED,
            FALLBACK,
            C,
            NO_STAGE + "(give its stage the same date in TriggerMap.due_dates, or pair a story in stage_to_story)",
            "trigger",
            FALLBACK,
        ),
        (
            MAP,
            FIXED,
            None,
            C,
            NO_STAGE + "(give its stage the same date in TriggerMap.due_dates, or pair a story in stage_to_story)",
            "trigger",
            None,
        ),
        (
            TriggerMap(due_dates={"s1": D1, "s2": D1}),
            FIXED,
            D1,
            C,
            NO_STAGE + "(several stages have the date 2027-01-15 in TriggerMap.due_dates)",
            "trigger",
            D1,
        ),
    ],
    ids=[
        "kantata-date",
        "autotask-date",
        "kantata-stage",
        "autotask-stage",
        "autotask-story",
        "crmcom-story",
        "crmcom-date",
        "crmcom-no-date",
        "crmcom-two-stages",
    ],
)
def test_an_untranslatable_trigger_is_refused_naming_the_field_the_trigger_and_the_setting(
    tmap: TriggerMap,
    trigger: Trigger,
    due: dt.date | None,
    target: Platform,
    message: str,
    field: str,
    source: object,
) -> None:
    with pytest.raises(TranslationError) as info:
        tmap.translate(trigger, due, target)
    assert (str(info.value), info.value.field, info.value.source) == (message, field, source)
