"""The common model every platform translates to and from.

A :class:`Milestone` is frozen: translations produce new objects and record what they derived, truncated,
defaulted or dropped in ``changes``, so nothing is ever guessed silently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar, Final, Self

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator, model_validator

from .errors import ValidationError
from .money import Money, to_decimal

__all__ = [
    "SYNC_KEY_PATTERN",
    "SYNC_SERVICE_NAME",
    "ChangeKind",
    "CommonModel",
    "ExternalRef",
    "FieldChange",
    "Milestone",
    "MilestoneKey",
    "MilestoneStatus",
    "Platform",
    "Trigger",
    "TriggerKind",
]

#: The service name under which our own sync keys travel on every platform.
SYNC_SERVICE_NAME = "billing-milestones"
#: What every sync key looks like (for sizing the room it takes on a platform): "bm" and 16 hex digits.
SYNC_KEY_PATTERN = "bm" + "0" * 16


class Platform(StrEnum):
    CRMCOM = "crmcom"
    AUTOTASK = "autotask"
    KANTATA = "kantata"


class MilestoneStatus(StrEnum):
    PLANNED = "planned"
    READY_TO_BILL = "ready_to_bill"
    BILLED = "billed"


class TriggerKind(StrEnum):
    FIXED_DATE = "fixed_date"
    ON_COMPLETION = "on_completion"
    ON_STAGE = "on_stage"


class ChangeKind(StrEnum):
    DERIVED = "derived"
    TRUNCATED = "truncated"
    DEFAULTED = "defaulted"
    DROPPED = "dropped"
    ROUNDED = "rounded"


def _describe(errors: list[Any], model: str) -> str:
    parts = []
    for err in errors:
        loc, value = _where(err)
        parts.append(f"{model}.{loc or '(model)'}: {err.get('msg')} (got {value!r})")
    return "; ".join(parts)


def _where(err: Any) -> tuple[str, Any]:
    """The dotted field path and bad value of one pydantic error; a model-level validator names its field by
    raising our ValidationError (a ValueError, so pydantic keeps it in ``ctx``)."""
    loc = [str(p) for p in err.get("loc", ())]
    value = err.get("input")
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, ValidationError) and cause.field and (not loc or loc[-1] != cause.field):
        loc.append(cause.field)
        value = cause.value
    return ".".join(loc), value


def _as_error(exc: pydantic.ValidationError, model: str) -> ValidationError:
    """Our ValidationError naming the (first) bad field and its value."""
    errors = list(exc.errors())
    field, value = _where(errors[0]) if errors else ("", None)
    return ValidationError(_describe(errors, model), field=field or None, value=value)


# BaseModel's own slots, set directly (what model_construct does, without its per-field pass).
_new: Final = object.__new__
_set_dict: Final = BaseModel.__dict__["__dict__"].__set__
_set_fields_set: Final = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra: Final = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private: Final = BaseModel.__dict__["__pydantic_private__"].__set__


class _SharedFields(set[str]):
    """One ``model_fields_set`` for many frozen instances built by :meth:`CommonModel._trusted`.

    A listing page builds three common models per milestone, and a set of its own for each cost a copy and
    an object the cyclic collector walks (a tenth of the common view's CPU). A frozen model's fields set never
    changes (pydantic adds to it only on assignment, which a frozen model refuses), so one set serves every
    instance of a read. pydantic's serializer needs a real ``set``, hence a subclass: every mutation is
    refused, so no instance can change the others' set; a copy (``copy``, ``model_copy``, ``set.copy``, set
    operators, pickling) is a plain set of the same names, which ``model_copy(update=...)`` then extends."""

    __slots__ = ()

    def __init__(self, *args: Any) -> None:
        raise TypeError("a shared fields set is made by shared_fields()")

    def _refuse(self, *args: Any) -> Any:
        raise TypeError("a shared fields set of frozen models cannot change; copy it first")

    add = discard = remove = pop = clear = _refuse
    update = difference_update = intersection_update = symmetric_difference_update = _refuse
    __ior__ = __iand__ = __isub__ = __ixor__ = _refuse

    def __copy__(self) -> set[str]:
        return set(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> set[str]:
        return set(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (set, (list(self),))

    def __repr__(self) -> str:
        return repr(set(self))


def shared_fields(names: frozenset[str] | set[str]) -> set[str]:
    """A fields set to pass to :meth:`CommonModel._trusted` for every instance of one shape (read-only)."""
    shared = set.__new__(_SharedFields)
    set.__init__(shared, names)
    return shared


class CommonModel(BaseModel):
    """Base of the common model: frozen, no unknown fields, and our own ValidationError on bad input."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            raise _as_error(exc, type(self).__name__) from None

    @classmethod
    def _trusted(cls, values: dict[str, Any], fields_set: set[str]) -> Self:
        """An instance from values that are already valid (every field, in declared order), not validated
        again: what ``model_construct`` does without its per-field default and alias pass, which costs more
        than the validation it skips. Only for values taken from validated models (the planner's translation,
        the adapters' reads of validated wire models)."""
        instance = _new(cls)
        _set_dict(instance, values)
        _set_fields_set(instance, fields_set)
        _set_extra(instance, None)
        _set_private(instance, None)
        return instance

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(obj, *args, **kwargs)
        except pydantic.ValidationError as exc:
            raise _as_error(exc, cls.__name__) from None

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate_json(json_data, *args, **kwargs)
        except pydantic.ValidationError as exc:
            raise _as_error(exc, cls.__name__) from None


class MilestoneKey(CommonModel):
    """Where a milestone lives: platform, its native id (as str) and its container (order/contract/workspace)."""

    platform: Platform
    id: str = Field(min_length=1)
    container_id: str = Field(min_length=1)

    def __str__(self) -> str:
        return f"{self.platform}:{self.container_id}/{self.id}"  # a StrEnum formats as its value

    @property
    def stable_id(self) -> str:
        """The part of the id that survives re-reading its container. A crm.com id is
        ``{estimation_id}:{stage_id}`` and a draft re-estimated gets a new estimation id, so there only the
        stage (one milestone per stage) names the milestone; elsewhere the native id does."""
        if self.platform is Platform.CRMCOM and ":" in self.id:
            return self.id.rsplit(":", 1)[1]
        return self.id

    @classmethod
    def parse(cls, text: str) -> MilestoneKey:
        """Inverse of ``str()``: ``"kantata:123/456"``."""
        try:
            platform, rest = text.split(":", 1)
            container_id, native_id = rest.rsplit("/", 1)
        except ValueError:
            raise ValidationError(
                f"key: expected 'platform:container/id', got {text!r}", field="key", value=text
            ) from None
        return cls(platform=platform, id=native_id, container_id=container_id)


class Trigger(CommonModel):
    """What makes a milestone billable: a date, a completed task/story, or an order stage."""

    kind: TriggerKind
    ref: str | None = Field(default=None, description="story/task id (ON_COMPLETION) or stage id (ON_STAGE)")

    @model_validator(mode="after")
    def _ref_matches_kind(self) -> Trigger:
        if self.kind is TriggerKind.FIXED_DATE and self.ref is not None:
            raise ValidationError(f"a FIXED_DATE trigger takes no ref, got {self.ref!r}", field="ref", value=self.ref)
        if self.kind is not TriggerKind.FIXED_DATE and not self.ref:
            raise ValidationError(
                f"a {self.kind.name} trigger needs ref (the task, story or stage id)", field="ref", value=self.ref
            )
        return self

    @classmethod
    def fixed_date(cls) -> Trigger:
        """The fixed-date trigger: one shared object (it is frozen and has no ref), not one per milestone."""
        return _FIXED_DATE

    @classmethod
    def on_completion(cls, task_id: str) -> Trigger:
        return cls(kind=TriggerKind.ON_COMPLETION, ref=str(task_id))

    @classmethod
    def on_stage(cls, stage_id: str) -> Trigger:
        return cls(kind=TriggerKind.ON_STAGE, ref=str(stage_id))


_FIXED_DATE: Final = Trigger(kind=TriggerKind.FIXED_DATE)


class FieldChange(CommonModel):
    """One thing a translation did to a field that was not a plain copy, and why."""

    field: str
    kind: ChangeKind
    before: Any = None
    after: Any = None
    reason: str

    def __str__(self) -> str:
        return f"{self.field} {self.kind.value}: {self.before!r} -> {self.after!r} ({self.reason})"


class ExternalRef(CommonModel):
    """A pointer to the same milestone elsewhere (Kantata external references, our sync keys)."""

    service: str = Field(min_length=1)
    ref: str = Field(min_length=1)
    model: str | None = None
    status: str | None = None


class Milestone(CommonModel):
    """A billing milestone in platform-neutral form."""

    key: MilestoneKey | None = None
    title: str = Field(min_length=1)
    description: str | None = None
    amount: Money | None = None
    percentage: Decimal | None = None
    due: dt.date | None = None
    trigger: Trigger = Field(default_factory=Trigger.fixed_date)
    status: MilestoneStatus = MilestoneStatus.PLANNED
    is_initial_payment: bool = False
    locked: bool = False
    external_refs: tuple[ExternalRef, ...] = ()
    raw: Mapping[str, Any] = Field(default_factory=dict, repr=False)
    changes: tuple[FieldChange, ...] = ()

    _compare_exclude: ClassVar[frozenset[str]] = frozenset({"key", "raw", "changes", "external_refs", "locked"})

    @field_serializer("raw")
    def _raw_as_dict(self, raw: Mapping[str, Any]) -> Mapping[str, Any]:
        # A raw payload read lazily (the adapters') is a Mapping, not a dict: dumped as the dict it is.
        return raw if isinstance(raw, dict) else dict(raw)

    @field_validator("percentage", mode="before")
    @classmethod
    def _exact_percentage(cls, value: object) -> Decimal | None:
        if value is None:
            return None
        try:
            pct = to_decimal(value, field="percentage")
        except ValidationError as exc:
            raise ValueError(exc.message) from None
        if not Decimal(0) <= pct <= Decimal(100):
            raise ValueError(f"percentage must be within 0..100, got {pct}")
        return pct

    @field_validator("title")
    @classmethod
    def _title_not_blank(cls, value: str) -> str:
        # Every platform needs a title a person can read; a blank one fails only at the server, after the write.
        if not value.strip():
            raise ValueError(f"title is blank ({value!r}); give the milestone a title")
        return value

    @field_validator("due", mode="before")
    @classmethod
    def _date_not_datetime(cls, value: object) -> object:
        if isinstance(value, dt.datetime):
            raise ValueError(f"due is a date; got a datetime {value.isoformat()} (pass .date() explicitly)")
        if value is not None and not isinstance(value, dt.date | str):
            # pydantic would read 0 or 86400 as seconds since 1970: an integer is not a date.
            raise ValueError(f"due is a date (or YYYY-MM-DD text); got {type(value).__name__} {value!r}")
        return value

    @model_validator(mode="after")
    def _amount_or_percentage(self) -> Milestone:
        if self.amount is None and self.percentage is None:
            raise ValidationError(
                "a milestone needs an amount, or a percentage of its container's total", field="amount", value=None
            )
        if self.status is MilestoneStatus.BILLED and not self.locked:
            raise ValidationError(
                "a BILLED milestone is locked on every platform; set locked=True", field="locked", value=self.locked
            )
        return self

    @property
    def sync_key(self) -> str | None:
        """Our own sync key, if the milestone carries one."""
        for ref in self.external_refs:
            if ref.service == SYNC_SERVICE_NAME:
                return ref.ref
        return None

    def with_sync_key(self, sync_key: str) -> Milestone:
        refs = tuple(r for r in self.external_refs if r.service != SYNC_SERVICE_NAME)
        return self.model_copy(update={"external_refs": (*refs, ExternalRef(service=SYNC_SERVICE_NAME, ref=sync_key))})

    def business_fields(self) -> dict[str, Any]:
        """The fields that matter when comparing two systems (no ids, raw payloads or notes)."""
        return {name: getattr(self, name) for name in type(self).model_fields if name not in self._compare_exclude}
