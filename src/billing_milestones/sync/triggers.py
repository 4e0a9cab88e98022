"""How triggers cross platforms: crm.com stages, Kantata stories and Autotask due dates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from .._platform_spec import PlatformSpec
from .._platforms import spec_for
from ..errors import TranslationError
from ..model import ChangeKind, FieldChange, Trigger, TriggerKind

__all__ = ["TriggerMap"]


@dataclass(frozen=True)
class TriggerMap:
    """User-given pairings; nothing here is guessed.

    ``stage_to_story`` pairs crm.com order stage ids with Kantata story ids (used both ways). ``due_dates``
    gives a date per stage or story id, for targets that only know dates (Autotask, or a Kantata fixed-date
    milestone); read the other way, a fixed date that exactly one stage id has (story ids, the values of
    ``stage_to_story``, are not stages) becomes that stage (crm.com as the target). ``fallback_due``, when
    set, turns any unmapped trigger into FIXED_DATE on that date and records the change; without it an
    unmapped trigger is a TranslationError naming the stage or story.
    """

    stage_to_story: Mapping[str, str] = field(default_factory=dict)
    due_dates: Mapping[str, dt.date] = field(default_factory=dict)
    fallback_due: dt.date | None = None

    def story_for_stage(self, stage_id: str) -> str | None:
        return self.stage_to_story.get(stage_id)

    def stage_for_story(self, story_id: str) -> str | None:
        for stage, story in self.stage_to_story.items():
            if story == story_id:
                return stage
        return None

    def translate(
        self, trigger: Trigger, due: dt.date | None, target: object
    ) -> tuple[Trigger, dt.date | None, list[FieldChange]]:
        """The trigger and due date the target should hold, with any change recorded.

        Read from the target's spec: a trigger it stores is kept; a crm.com stage becomes a story (where
        stories exist) or a date; a story becomes a stage (where stages are all there is) or a date; a fixed
        date becomes the one stage given that date.
        """
        return self.translate_for(trigger, due, spec_for(target))

    def translate_for(
        self, trigger: Trigger, due: dt.date | None, spec: PlatformSpec
    ) -> tuple[Trigger, dt.date | None, list[FieldChange]]:
        """:meth:`translate` given the target's spec (the planner looks it up once per plan, not per milestone)."""
        new, day, changes = self._cross(trigger, due, spec)
        return new, (day if spec.has_due else None), changes

    def _cross(
        self, trigger: Trigger, due: dt.date | None, spec: PlatformSpec
    ) -> tuple[Trigger, dt.date | None, list[FieldChange]]:
        native = spec.triggers.native
        if trigger.kind in native:
            if trigger.kind is TriggerKind.FIXED_DATE:
                return self._need_due(trigger, due, spec.triggers.fixed_date_what)
            return trigger, due, []
        if trigger.kind is TriggerKind.FIXED_DATE:
            return self._stage_by_date(due)
        assert trigger.ref is not None
        if trigger.kind is TriggerKind.ON_STAGE and TriggerKind.ON_COMPLETION in native:
            story = self.story_for_stage(trigger.ref)
            if story is not None:
                new = Trigger.on_completion(story)
                return new, due, [_mapped(trigger, new, "TriggerMap.stage_to_story")]
        if trigger.kind is TriggerKind.ON_COMPLETION and TriggerKind.ON_STAGE in native:
            stage = self.stage_for_story(trigger.ref)
            if stage is not None:
                new = Trigger.on_stage(stage)
                return new, None, [_mapped(trigger, new, "TriggerMap.stage_to_story")]
            raise TranslationError(
                f"trigger: Kantata story {trigger.ref!r} has no {spec.label} stage in TriggerMap.stage_to_story",
                field="trigger",
                source=trigger.ref,
            )
        if TriggerKind.FIXED_DATE in native:
            if trigger.ref in self.due_dates:
                return self._dated(trigger, self.due_dates[trigger.ref], "TriggerMap.due_dates")
            if trigger.kind is TriggerKind.ON_COMPLETION and due is not None:
                new = Trigger.fixed_date()
                change = FieldChange(
                    field="trigger",
                    kind=ChangeKind.DERIVED,
                    before=f"on_completion:{trigger.ref}",
                    after="fixed_date",
                    reason=f"{spec.label} bills by date; the milestone's own date is kept as {spec.triggers.due_field}",
                )
                return new, due, [change]
        if trigger.kind is TriggerKind.ON_STAGE and TriggerKind.ON_COMPLETION in native:
            problem = f"crm.com stage {trigger.ref!r} has no {spec.label} story in TriggerMap.stage_to_story"
        else:
            what = "stage" if trigger.kind is TriggerKind.ON_STAGE else "story"
            problem = f"{what} {trigger.ref!r} has no due date in TriggerMap.due_dates for {spec.label}"
        return self._fallback(trigger, problem)

    def _stage_by_date(self, due: dt.date | None) -> tuple[Trigger, dt.date | None, list[FieldChange]]:
        """A fixed date onto a platform of stages: the one stage (not story) given that date."""
        stories = set(self.stage_to_story.values())
        stages = [ref for ref, day in self.due_dates.items() if day == due and ref not in stories]  # none if no due
        if len(stages) == 1:
            new = Trigger.on_stage(stages[0])
            change = FieldChange(
                field="trigger",
                kind=ChangeKind.DERIVED,
                before=f"fixed_date:{self.due_dates[stages[0]].isoformat()}",
                after=f"on_stage:{stages[0]}",
                reason="from TriggerMap.due_dates (the one stage given this date)",
            )
            return new, None, [change]
        raise TranslationError(
            "trigger: crm.com milestones are tied to order stages; a fixed-date milestone has no stage "
            + (
                f"(several stages have the date {due} in TriggerMap.due_dates)"
                if stages
                else "(give its stage the same date in TriggerMap.due_dates, or pair a story in stage_to_story)"
            ),
            field="trigger",
            source=due,
        )

    @staticmethod
    def _need_due(
        trigger: Trigger, due: dt.date | None, what: str
    ) -> tuple[Trigger, dt.date | None, list[FieldChange]]:
        if due is None:
            raise TranslationError(f"due: {what} needs a date and the source has none", field="due")
        return trigger, due, []

    @staticmethod
    def _dated(trigger: Trigger, day: dt.date, origin: str) -> tuple[Trigger, dt.date | None, list[FieldChange]]:
        change = FieldChange(
            field="trigger",
            kind=ChangeKind.DERIVED,
            before=f"{trigger.kind.value}:{trigger.ref}",
            after=f"fixed_date:{day.isoformat()}",
            reason=f"from {origin}",
        )
        return Trigger.fixed_date(), day, [change]

    def _fallback(self, trigger: Trigger, problem: str) -> tuple[Trigger, dt.date | None, list[FieldChange]]:
        if self.fallback_due is None:
            raise TranslationError(f"trigger: {problem}", field="trigger", source=trigger.ref)
        change = FieldChange(
            field="trigger",
            kind=ChangeKind.DEFAULTED,
            before=f"{trigger.kind.value}:{trigger.ref}",
            after=f"fixed_date:{self.fallback_due.isoformat()}",
            reason=f"{problem}; TriggerMap.fallback_due chosen by the caller",
        )
        return Trigger.fixed_date(), self.fallback_due, [change]


def _mapped(before: Trigger, after: Trigger, origin: str) -> FieldChange:
    return FieldChange(
        field="trigger",
        kind=ChangeKind.DERIVED,
        before=f"{before.kind.value}:{before.ref}",
        after=f"{after.kind.value}:{after.ref}",
        reason=f"from {origin}",
    )
