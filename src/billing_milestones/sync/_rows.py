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

    A row of this class has no key (a translation: what a write would send); a listed milestone's row is a
    :class:`ListedRow`, which adds the key's parts.
    """

    __slots__ = (
        "_fields_set",
        "_refs",
        "amount",
        "changes",
        "description",
        "due",
        "is_initial_payment",
        "locked",
        "percentage",
        "status",
        "sync_key",
        "title",
        "trigger",
    )

    # A row without a key: these are class-level here and slots on ListedRow.
    platform: Platform | None = None
    id: str | None = None
    container_id: str | None = None
    #: As :attr:`MilestoneKey.stable_id` (a crm.com id's stage part), found once; "" without a key.
    stable_id: str = ""
    _full: Milestone | None = None

    title: str
    description: str | None
    amount: Money | None
    percentage: Decimal | None
    due: dt.date | None
    trigger: Trigger
    status: MilestoneStatus
    is_initial_payment: bool
    locked: bool
    sync_key: str | None
    changes: tuple[FieldChange, ...]
    _refs: tuple[RefTuple, ...]
    _fields_set: frozenset[str]

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
    """The row of a listed milestone: the key's parts and its text, and the milestone itself where the
    caller holds it anyway (then its key may be None: a milestone built by hand)."""

    __slots__ = ("_full", "container_id", "id", "platform", "stable_id")

    @property
    def text(self) -> str:
        # Built when asked (a plan asks a few times a row) rather than kept: 66 bytes a row.
        if self.id is None:
            return ""
        return f"{self.platform}:{self.container_id}/{self.id}"  # str(key), as MilestoneKey writes it


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
    row: MilestoneRow
    if key is None and not keep:
        row = MilestoneRow.__new__(MilestoneRow)
    else:
        listed = row = ListedRow.__new__(ListedRow)
        listed._full = milestone if keep else None
        if key is None:
            listed.platform = listed.id = listed.container_id = None
            listed.stable_id = ""
        else:
            kd = key.__dict__
            ident, container = kd["id"], kd["container_id"] if keep else share(kd["container_id"])
            listed.platform, listed.id, listed.container_id = kd["platform"], ident, container
            stable = key.stable_id
            listed.stable_id = ident if stable == ident else stable
    values = milestone.__dict__
    row.title = values["title"]
    row.description = values["description"]
    row.amount = values["amount"]
    row.percentage = values["percentage"]
    due = values["due"]
    row.due = due if keep else share(due)  # dates repeat (month ends, schedules): one object each
    row.trigger = values["trigger"]
    row.status = values["status"]
    row.is_initial_payment = values["is_initial_payment"]
    row.locked = values["locked"]
    row.changes = values["changes"]
    refs = values["external_refs"]
    sync_key = None
    for r in refs:
        if r.service == SYNC_SERVICE_NAME:
            sync_key = r.ref
            break
    row.sync_key = sync_key
    if keep:
        row._refs, row._fields_set = (), _NO_FIELDS
        return row
    row._refs = share(
        tuple(
            (r.service, None if r.ref == sync_key and r.service == SYNC_SERVICE_NAME else r.ref, r.model, r.status)
            for r in refs
        )
    )
    row._fields_set = share(frozenset(milestone.model_fields_set))
    return row


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
    row.amount = amount
    row.percentage = percentage
    row.due = due
    row.trigger = trigger
    row.status = MilestoneStatus.PLANNED
    row.is_initial_payment = is_initial_payment
    row.locked = False
    row.changes = changes
    row.sync_key = sync_key
    row._refs = () if sync_key is None else _OURS_ONLY
    row._fields_set = fields_set
    return row


def _no_sharing(value: Any) -> Any:
    return value
