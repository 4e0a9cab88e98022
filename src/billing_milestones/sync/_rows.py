"""The planner's compact projection of a milestone: its business fields without the payload it was read from.

A listed :class:`~billing_milestones.Milestone` keeps its wire object alive (``raw`` is dumped from it on
demand) and is a pydantic model with a field dict and a fields-set each: about 7 KB a Kantata milestone. A
sync plans from a few fields of each and writes few of them, so :func:`~billing_milestones.sync.load_sides`
streams each page into rows (about 0.5 KB: slots, values shared with the read, references as tuples) and lets
the page go. A row gives its milestone back with :meth:`MilestoneRow.milestone`: the very object it was made
from where the caller holds it anyway (rows made by ``plan_sync`` from lists of milestones), else an equal one
without ``raw`` (a write re-reads what it needs: Kantata and Autotask updates GET the milestone first).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from ..model import (
    SYNC_SERVICE_NAME,
    ExternalRef,
    FieldChange,
    Milestone,
    MilestoneKey,
    MilestoneStatus,
    Platform,
    Trigger,
)
from ..money import Money
from ._minor import in_minor_units

__all__ = ["ListedRow", "MilestoneRow", "Shared", "row_of", "translated_row"]

#: A reference as a plain tuple: service, ref, model, status; ref None stands for the row's own sync key,
#: so the references of a listing's rows are one shared tuple where they differ only by it.
RefTuple = tuple[str, str | None, str | None, str | None]

_KEY_FIELDS: Final = frozenset({"platform", "id", "container_id"})
_EMPTY: Final[Mapping[str, Any]] = {}
#: A translation's references: our sync key alone.
_OURS_ONLY: Final[tuple[RefTuple, ...]] = ((SYNC_SERVICE_NAME, None, None, None),)
_NO_FIELDS: Final[frozenset[str]] = frozenset()


class Shared:
    """Equal values of one listing stored once (container ids, due dates, the reference tuples, field sets):
    reading makes a new object for every occurrence. Bounded, so an odd listing cannot grow it."""

    __slots__ = ("_values",)
    LIMIT: Final = 4096

    def __init__(self) -> None:
        self._values: dict[Any, Any] = {}

    def __call__(self, value: Any) -> Any:
        kept = self._values.get(value)
        if kept is not None:
            return kept
        if len(self._values) < self.LIMIT:
            self._values[value] = value
        return value


class MilestoneRow:
    """A milestone as the planner reads it: the fields of :class:`~billing_milestones.Milestone` under the
    same names (``key`` and ``external_refs`` are built when asked for), ``text`` its key as text, and
    ``sync_key`` found once. Read-only by convention: the planner and the plan share rows.

    The fields that vary from milestone to milestone are slots; the rest (status, the flags, changes, the
    reference and field-set shapes, and a listed row's platform and container) are one tuple, ``_kind``,
    that rows alike share: 96 bytes a row instead of 176.

    A row of this class has no key (a translation: what a write would send); a listed milestone's row is a
    :class:`ListedRow`, which adds the key's parts.
    """

    __slots__ = ("_amount", "_kind", "description", "due", "percentage", "sync_key", "title", "trigger")

    # A row without a key: these are class-level here and read from the row on ListedRow.
    id: str | None = None
    _full: Milestone | None = None

    title: str
    description: str | None
    #: The amount, or where ``_kind`` names a unit its count of minor units (an int: 28 bytes, not 152)
    _amount: Money | int | None
    percentage: Decimal | None
    due: dt.date | None
    trigger: Trigger
    sync_key: str | None
    #: status, is_initial_payment, locked, changes, references, fields set, the amount's unit (a reader of
    #: minor units and its currency, or None: ``_amount`` is the Money), and a ListedRow's platform, container
    _kind: tuple[Any, ...]

    @property
    def amount(self) -> Money | None:
        unit = self._kind[6]
        amount = self._amount
        if unit is None or amount is None:
            return amount  # type: ignore[return-value]  # without a unit it is the Money itself
        money: Money = unit.read(amount)
        return money

    @property
    def currency(self) -> str | None:
        """The amount's currency, read without building the amount (None without one)."""
        unit = self._kind[6]
        if unit is not None:
            currency: str = unit.currency
            return currency
        amount = self._amount
        return amount.currency if isinstance(amount, Money) else None

    @property
    def stable_id(self) -> str:
        """As :attr:`MilestoneKey.stable_id` (a crm.com id's stage part); "" without a key."""
        return ""

    @property
    def platform(self) -> Platform | None:
        return None

    @property
    def container_id(self) -> str | None:
        return None

    @property
    def status(self) -> MilestoneStatus:
        status: MilestoneStatus = self._kind[0]
        return status

    @property
    def is_initial_payment(self) -> bool:
        return bool(self._kind[1])

    @property
    def locked(self) -> bool:
        return bool(self._kind[2])

    @property
    def changes(self) -> tuple[FieldChange, ...]:
        changes: tuple[FieldChange, ...] = self._kind[3]
        return changes

    @property
    def _refs(self) -> tuple[RefTuple, ...]:
        refs: tuple[RefTuple, ...] = self._kind[4]
        return refs

    @property
    def _fields_set(self) -> frozenset[str]:
        fields: frozenset[str] = self._kind[5]
        return fields

    @property
    def text(self) -> str:
        """The key as text (``str(milestone.key)``); "" without a key."""
        return ""

    @property
    def key(self) -> MilestoneKey | None:
        full = self._full
        if full is not None:
            return full.key
        if self.id is None or self.platform is None or self.container_id is None:
            return None
        values = {"platform": self.platform, "id": self.id, "container_id": self.container_id}
        return MilestoneKey._trusted(values, set(_KEY_FIELDS))

    @property
    def external_refs(self) -> tuple[ExternalRef, ...]:
        full = self._full
        if full is not None:
            return full.external_refs
        return tuple(_ref(r, self.sync_key) for r in self._refs)

    @property
    def raw(self) -> Mapping[str, Any]:
        """The payload where the milestone it came from is held; empty for a streamed row (not kept)."""
        full = self._full
        return full.raw if full is not None else _EMPTY

    def milestone(self) -> Milestone:
        """The milestone: the one this row was made from where it was kept, else an equal one without raw."""
        full = self._full
        if full is not None:
            return full
        values: dict[str, Any] = {
            "key": self.key,
            "title": self.title,
            "description": self.description,
            "amount": self.amount,
            "percentage": self.percentage,
            "due": self.due,
            "trigger": self.trigger,
            "status": self.status,
            "is_initial_payment": self.is_initial_payment,
            "locked": self.locked,
            "external_refs": self.external_refs,
            "raw": {},
            "changes": self.changes,
        }
        return Milestone._trusted(values, set(self._fields_set))

    def _compared(self) -> tuple[Any, ...]:
        refs = tuple((r.service, r.ref, r.model, r.status) for r in self.external_refs)
        return (
            self.platform, self.id, self.container_id, self.title, self.description, self.amount,
            self.percentage, self.due, self.trigger, self.status, self.is_initial_payment, self.locked, refs,
            self.changes,
        )  # fmt: skip

    def __eq__(self, other: object) -> bool:
        """Equal rows hold equal milestones (``raw`` aside: a streamed row does not keep it)."""
        if not isinstance(other, MilestoneRow):
            return NotImplemented
        return self._compared() == other._compared()

    __hash__ = None  # type: ignore[assignment]  # equal by value, like the milestones it stands for

    def __repr__(self) -> str:
        return f"MilestoneRow({self.text or 'no key'}, {self.title!r}, {self.amount}, due={self.due})"


class ListedRow(MilestoneRow):
    """The row of a listed milestone: the key's id (its platform and container in ``_kind``, shared), and
    its text built when asked. Its stable id is its id (:class:`_StagedRow` where they differ); a row that
    holds its milestone too is a :class:`_KeptRow` (then its key may be None: a milestone built by hand)."""

    __slots__ = ("id",)

    id: str | None

    @property
    def platform(self) -> Platform | None:
        platform: Platform | None = self._kind[7]
        return platform

    @property
    def container_id(self) -> str | None:
        container: str | None = self._kind[8]
        return container

    @property
    def stable_id(self) -> str:
        return self.id or ""

    @property
    def text(self) -> str:
        # Built when asked (a plan asks a few times a row) rather than kept: 66 bytes a row.
        if self.id is None:
            return ""
        kind = self._kind
        return f"{kind[7]}:{kind[8]}/{self.id}"  # str(key), as MilestoneKey writes it


class _StagedRow(ListedRow):
    """A listed row whose stable id is not its id (a crm.com stage within its estimate)."""

    __slots__ = ("_stable",)

    _stable: str

    @property
    def stable_id(self) -> str:
        return self._stable


class _KeptRow(ListedRow):
    """A listed row that holds the milestone it was made from (the caller holds it anyway)."""

    __slots__ = ("_full", "_stable")

    _full: Milestone | None
    _stable: str

    @property
    def stable_id(self) -> str:
        return self._stable


def _ref(values: RefTuple, sync_key: str | None) -> ExternalRef:
    service, ref, model, status = values
    data = {"service": service, "ref": sync_key if ref is None else ref, "model": model, "status": status}
    return ExternalRef._trusted(data, {name for name, v in data.items() if v is not None})


def row_of(milestone: Milestone, *, keep: bool = True, shared: Shared | None = None) -> MilestoneRow:
    """The row of ``milestone``. ``keep`` holds the milestone itself (the caller holds it anyway, so
    :meth:`MilestoneRow.milestone` gives it back, raw and all); without it the row holds only its values,
    compacted through ``shared``."""
    share = shared or _no_sharing  # called only for a streamed row: a kept one shares with its milestone
    key = milestone.key
    values = milestone.__dict__
    refs = values["external_refs"]
    sync_key = None
    for r in refs:
        if r.service == SYNC_SERVICE_NAME:
            sync_key = r.ref
            break
    kind: tuple[Any, ...] = (
        values["status"],
        values["is_initial_payment"],
        values["locked"],
        values["changes"],
    )
    if keep:
        kind += ((), _NO_FIELDS)
    else:
        kind += (
            share(
                tuple(
                    (
                        r.service,
                        None if r.ref == sync_key and r.service == SYNC_SERVICE_NAME else r.ref,
                        r.model,
                        r.status,
                    )
                    for r in refs
                )
            ),
            share(frozenset(milestone.model_fields_set)),
        )
    amount: Money | int | None = values["amount"]
    unit = None
    if not keep and type(amount) is Money:  # a kept row reads its milestone's, already there
        unit, minor = in_minor_units(amount)
        if unit is not None:
            amount = minor
    kind += (unit,)
    row: MilestoneRow
    if key is None and not keep:
        row = MilestoneRow.__new__(MilestoneRow)
    else:
        ident: str | None = None
        platform = container = None
        if key is not None:
            kd = key.__dict__
            ident, platform, container = kd["id"], kd["platform"], kd["container_id"]
        stable = key.stable_id if key is not None else ""
        if keep:
            kept = row = _KeptRow.__new__(_KeptRow)
            kept._full = milestone
            kept._stable = stable
        elif stable == ident:
            row = ListedRow.__new__(ListedRow)
        else:
            staged = row = _StagedRow.__new__(_StagedRow)
            staged._stable = stable
        row.id = ident
        kind += (platform, container)
    row._kind = share(kind) if not keep and not kind[3] else kind  # changes (models) are not hashable
    row.title = values["title"]
    row.description = values["description"]
    row._amount = amount
    row.percentage = values["percentage"]
    due = values["due"]
    row.due = due if keep else share(due)  # dates repeat (month ends, schedules): one object each
    row.trigger = values["trigger"]
    row.sync_key = sync_key
    return row


#: The kinds of translated rows without changes, by their flags (a handful exist).
_TRANSLATED_KINDS: dict[tuple[bool, bool, frozenset[str]], tuple[Any, ...]] = {}


def translated_row(
    title: str,
    description: str | None,
    amount: Money | None,
    percentage: Decimal | None,
    due: dt.date | None,
    trigger: Trigger,
    is_initial_payment: bool,
    changes: tuple[FieldChange, ...],
    sync_key: str | None,
    fields_set: frozenset[str],
    /,
) -> MilestoneRow:
    """A row of a translated milestone (no key, status planned, our sync key its only reference) from the
    values the translation computed, without building the model: the plan builds it only when asked."""
    row = MilestoneRow.__new__(MilestoneRow)
    row.title = title
    row.description = description
    row._amount = amount
    row.percentage = percentage
    row.due = due
    row.trigger = trigger
    row.sync_key = sync_key
    keyed = sync_key is not None
    if changes:
        row._kind = (
            MilestoneStatus.PLANNED,
            is_initial_payment,
            False,
            changes,
            _OURS_ONLY if keyed else (),
            fields_set,
            None,
        )
        return row
    flags = (is_initial_payment, keyed, fields_set)
    kind = _TRANSLATED_KINDS.get(flags)
    if kind is None:
        kind = (MilestoneStatus.PLANNED, is_initial_payment, False, (), _OURS_ONLY if keyed else (), fields_set, None)
        if len(_TRANSLATED_KINDS) < 64:  # the field sets are the translation's two
            _TRANSLATED_KINDS[flags] = kind
    row._kind = kind
    return row


def _no_sharing(value: Any) -> Any:
    return value
