"""Every way a trigger crosses platforms, and every way it refuses to."""

from __future__ import annotations

import datetime as dt

import pytest

from billing_milestones import Platform, Trigger
from billing_milestones.errors import TranslationError
from billing_milestones.sync import TriggerMap

D1, D2, FALLBACK = dt.date(2027, 1, 15), dt.date(2027, 6, 30), dt.date(2027, 12, 31)
MAP = TriggerMap(stage_to_story={"st-a": "41"}, due_dates={"st-b": D1, "42": D2, "41": D1})
WITH_FALLBACK = TriggerMap(stage_to_story={"st-a": "41"}, fallback_due=FALLBACK)
K, A, C = Platform.KANTATA, Platform.AUTOTASK, Platform.CRMCOM
FIXED = Trigger.fixed_date()


@pytest.mark.parametrize(
    ("tmap", "trigger", "due", "target", "expected", "change"),
    [
        # Kantata: dates, stories, stages through the map, the due-date map or the fallback.
        (MAP, FIXED, D1, K, (FIXED, D1), None),
        (MAP, Trigger.on_completion("41"), None, K, (Trigger.on_completion("41"), None), None),
        (MAP, Trigger.on_stage("st-a"), None, K, (Trigger.on_completion("41"), None), "derived"),
        (MAP, Trigger.on_stage("st-b"), None, K, (FIXED, D1), "derived"),
        (WITH_FALLBACK, Trigger.on_stage("st-z"), None, K, (FIXED, FALLBACK), "defaulted"),
        # Autotask: only dates.
        (MAP, FIXED, D2, A, (FIXED, D2), None),
        (MAP, Trigger.on_stage("st-b"), None, A, (FIXED, D1), "derived"),
        (MAP, Trigger.on_completion("42"), None, A, (FIXED, D2), "derived"),
        (MAP, Trigger.on_completion("77"), D2, A, (FIXED, D2), "derived"),  # the milestone's own date
        (WITH_FALLBACK, Trigger.on_completion("77"), None, A, (FIXED, FALLBACK), "defaulted"),
        # crm.com: only stages.
        (MAP, Trigger.on_stage("st-a"), D1, C, (Trigger.on_stage("st-a"), None), None),
        (MAP, Trigger.on_completion("41"), None, C, (Trigger.on_stage("st-a"), None), "derived"),
        (MAP, FIXED, D1, C, (Trigger.on_stage("st-b"), None), "derived"),  # "41" has D1 too, but it is a story
    ],
)
def test_translations(
    tmap: TriggerMap,
    trigger: Trigger,
    due: dt.date | None,
    target: Platform,
    expected: tuple[Trigger, dt.date | None],
    change: str | None,
) -> None:
    new, new_due, changes = tmap.translate(trigger, due, target)
    assert (new, new_due) == expected
    assert [c.kind.value for c in changes] == ([change] if change else [])


@pytest.mark.parametrize(
    ("tmap", "trigger", "due", "target", "names"),
    [
        (MAP, FIXED, None, K, "due"),
        (MAP, Trigger.on_stage("st-z"), None, K, "'st-z'"),
        (MAP, FIXED, None, A, "dateDue"),
        (MAP, Trigger.on_stage("st-z"), None, A, "stage 'st-z'"),
        (MAP, Trigger.on_completion("77"), None, A, "story '77'"),
        (MAP, Trigger.on_completion("77"), None, C, "story '77'"),
        (MAP, FIXED, FALLBACK, C, "give its stage the same date"),  # no stage has this date
        (TriggerMap(due_dates={"s1": D1, "s2": D1}), FIXED, D1, C, "several stages"),
    ],
)
def test_untranslatable_triggers_name_what_is_missing(
    tmap: TriggerMap, trigger: Trigger, due: dt.date | None, target: Platform, names: str
) -> None:
    with pytest.raises(TranslationError, match=r"^(trigger|due):") as info:
        tmap.translate(trigger, due, target)
    assert names in str(info.value)


def test_lookups_both_ways() -> None:
    assert MAP.story_for_stage("st-a") == "41" and MAP.stage_for_story("41") == "st-a"
    assert MAP.story_for_stage("nope") is None and MAP.stage_for_story("nope") is None
