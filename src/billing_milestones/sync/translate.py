"""Turn a source milestone into what the target should hold: pure, and loud about anything it cannot carry."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from .._platform_spec import PlatformSpec
from .._platforms import spec_for
from .._text import fit_text
from ..errors import TranslationError
from ..model import (
    ChangeKind,
    FieldChange,
    Milestone,
    Platform,
    Trigger,
)
from ..money import Money
from ._fingerprint import fingerprint
from ._fingerprint import plain as _plain
from ._rows import MilestoneRow, translated_row
from .pair import SyncPair

__all__ = [
    "COMPARED_FIELDS",
    "FieldDiff",
    "can_delete",
    "comparable",
    "compare",
    "differences",
    "fingerprint",
    "translate",
    "translate_row",
]


#: What the comparisons read: a milestone, or its row (the same fields under the same names).
Held = Milestone | MilestoneRow


class _ComparedFields(Mapping[Platform, tuple[str, ...]]):
    """The fields each platform stores and lets us write (its spec's ``compared_fields``), as a mapping."""

    def __getitem__(self, platform: Platform) -> tuple[str, ...]:
        return spec_for(platform).compared_fields

    def __iter__(self) -> Iterator[Platform]:
        return iter(Platform)

    def __len__(self) -> int:
        return len(Platform)


#: platform -> the fields it stores; only these are compared and fingerprinted.
COMPARED_FIELDS: Final[Mapping[Platform, tuple[str, ...]]] = _ComparedFields()


def can_delete(platform: Platform) -> bool:
    """Whether the platform deletes milestones at all (Autotask has no delete for contract milestones)."""
    return spec_for(platform).can_delete


@dataclass(frozen=True)
class FieldDiff:
    field: str
    current: Any
    desired: Any

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "current": _shown(self.current), "desired": _shown(self.desired)}


# The fields a translation sets, as a validated construction would record them (``model_fields_set``).
_TRANSLATED_SET: Final = frozenset(
    {"title", "description", "amount", "percentage", "due", "trigger", "is_initial_payment", "changes"}
)
_TRANSLATED_SET_KEYED: Final = _TRANSLATED_SET | {"external_refs"}


def translate(
    source: Milestone | MilestoneRow,
    pair: SyncPair,
    *,
    target_currency: str | None = None,
    sync_key: str | None = None,
) -> Milestone:
    """The milestone as the target should hold it. Raises TranslationError naming what cannot be carried.

    With ``sync_key`` the result carries it as its only external reference (what the planner writes),
    built in the same step instead of a second model copy per milestone.
    """
    return translate_row(source, pair, target_currency=target_currency, sync_key=sync_key).milestone()


def translate_row(
    source: Milestone | MilestoneRow, pair: SyncPair, *, target_currency: str | None, sync_key: str | None
) -> MilestoneRow:
    """:func:`translate` as a row (what the planner keeps): the same values, no model built until asked."""
    target = pair.target
    changes: list[FieldChange] = []  # what this translation adds to the source's own changes
    spec = spec_for(target)
    title = _fit_text("title", source.title, spec, pair.truncate, changes)
    description = source.description
    if description and not spec.has_description:
        if not pair.allow_drop:
            raise TranslationError(
                f"description: {target.value} milestones have no description; the source's text would be lost "
                "(set allow_drop on the pair to drop it)",
                field="description",
                source=description,
            )
        changes.append(
            FieldChange(
                field="description",
                kind=ChangeKind.DROPPED,
                before=description,
                reason=f"{target.value} has no description field; dropped because the pair allows it",
            )
        )
        description = None
    elif description:
        description = _fit_text("description", description, spec, pair.truncate, changes)

    amount, percentage = source.amount, source.percentage
    if amount is None and spec.needs_amount:
        raise TranslationError(
            f"amount: the source holds only a percentage ({percentage}%) of a total it does not know; "
            f"{target.value} needs an amount",
            field="amount",
            source=percentage,
        )
    if amount is not None:
        if target_currency is not None and amount.currency != target_currency:
            raise TranslationError(
                f"amount: {amount} is in {amount.currency} but the target container bills in {target_currency}; "
                "no exchange rate is applied silently",
                field="amount",
                source=str(amount),
            )
        if not amount.is_whole_minor():
            raise TranslationError(
                f"amount: {amount} has a fraction of a minor unit and cannot be stored exactly",
                field="amount",
                source=str(amount),
            )
        percentage = None  # the amount is exact; a percentage is derived, not stored, on every target

    trigger, due, trigger_changes = pair.triggers.translate_for(source.trigger, source.due, spec)
    if trigger_changes:
        changes.extend(trigger_changes)
    # Every value comes from the validated source (a text only shortened, an amount checked above, a trigger
    # from the TriggerMap's validated ones), so it is not validated a second time. Status is left at its
    # default, planned: the target bills it itself; the sync key is the only reference.
    return translated_row(
        title,
        description,
        amount,
        percentage,
        due,
        trigger,
        source.is_initial_payment if spec.has_initial_payment else False,
        (*source.changes, *changes) if changes else source.changes,
        sync_key,
        _TRANSLATED_SET if sync_key is None else _TRANSLATED_SET_KEYED,
    )


def _fit_text(name: str, text: str, spec: PlatformSpec, truncate: bool, changes: list[FieldChange]) -> str:
    limit = spec.text_limits.get(name)
    if limit is None or len(text) <= limit:  # what fit_text returns first, without the call
        return text
    return fit_text(
        name,
        text,
        limit,
        truncate=truncate,
        changes=changes,
        where=f"{spec.platform.value} {name}",
        hint="set truncate on the pair to shorten it",
    )


def compare(desired: Held, current: Held, platform: Platform) -> list[FieldDiff]:
    """Field-level differences on the fields ``platform`` stores."""
    return differences(desired, current, COMPARED_FIELDS[platform])


def differences(desired: Held, current: Held, fields: tuple[str, ...]) -> list[FieldDiff]:
    """:func:`compare` over the given fields (the planner looks the platform's up once per plan)."""
    diffs = []
    for name in fields:
        want, have = getattr(desired, name), getattr(current, name)
        if want is have or _plainly_equal(want, have):  # ``is``: what _plainly_equal checks first
            continue
        if _normal(want) != _normal(have):
            diffs.append(FieldDiff(name, have, want))
    return diffs


def _plainly_equal(a: Any, b: Any) -> bool:
    """True only where :func:`_normal` would give equal values too, without building them: the same object,
    or two values of one type that are equal (an amount or number equal but for the sign of a zero is left
    to the full comparison, where -0 and 0 differ). False means "compare them in full", not "different"."""
    if a is b:
        return True
    kind = type(a)
    if kind is not type(b) or a != b:
        return False
    if kind is Money:
        return bool(a.amount) or a.amount.is_signed() == b.amount.is_signed()
    if kind is Decimal:
        return bool(a) or a.is_signed() == b.is_signed()
    return kind in _EQUAL_MEANS_SAME


#: Types whose equality implies equal :func:`_normal` forms (text, dates, flags, triggers).
_EQUAL_MEANS_SAME: Final = frozenset({str, bool, dt.date, Trigger})


def comparable(milestone: Held, platform: Platform, fields: Iterable[str] | None = None) -> tuple[str, ...]:
    """The compared fields as :func:`compare` sees them, hashable: equal exactly when compare finds no diff,
    so exact-match adoption can look a milestone up instead of comparing it with every other. Every value
    :func:`_normal` gives is JSON (a money amount a dict in one fixed key order), so no options are needed."""
    names = COMPARED_FIELDS[platform] if fields is None else fields
    return tuple(json.dumps(_normal(getattr(milestone, name))) for name in names)


def _normal(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    return _plain(value)


def _shown(value: Any) -> Any:
    """Like :func:`_plain` but for people and scripts: 100.00 reads "100", never "1E+2". (Fingerprints keep
    :func:`_plain`, so links written by earlier versions still match.)"""
    if isinstance(value, Money):
        return {"amount": format(value.amount.normalize(), "f"), "currency": value.currency}
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return _plain(value)
