"""What a plan is made of: actions with their reasons, and the plan that holds them (data, JSON, table).

The decisions themselves are made in :mod:`.plan`; this module only describes them, so the CLI, the JSON a
script reads and the table a notebook shows all come from one place.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final, overload

from .._platforms import spec_for
from ..model import Milestone, Platform
from ._linked import Linked, folded, unfolded
from ._rows import MilestoneRow, row_of
from .links import Link
from .pair import ConflictPolicy, SyncPair
from .translate import FieldDiff, translate_row

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["KEEPS_SYNC_KEY", "PLAN_SCHEMA_VERSION", "WRITES", "ActionKind", "PlannedAction", "SyncPlan"]

#: The version of the plan JSON's shape (docs/sync.md, "The plan as JSON"): raised when a key changes
#: meaning or goes away, not when one is added, so a script can refuse a shape it does not know.
PLAN_SCHEMA_VERSION = 1


class ActionKind(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    ADOPT = "adopt"
    SKIP_LOCKED = "skip-locked"
    CONFLICT = "conflict"
    #: An extra target milestone carrying the sync key of another (an earlier double write): a finding,
    #: removed when the pair fixes duplicates and the platform allows it, else reported.
    DUPLICATE = "duplicate"
    UNCHANGED = "unchanged"


#: Platforms that keep our sync key on a milestone (their spec's ``keeps_sync_key``: Kantata an external
#: reference, Autotask a description marker); crm.com keeps none, a stage identifies the milestone there.
#: Made when first asked for (``__getattr__``): it reads every platform's spec, which imports its package.
KEEPS_SYNC_KEY: frozenset[Platform]


def __getattr__(name: str) -> object:
    if name == "KEEPS_SYNC_KEY":
        keeps = globals()[name] = frozenset(p for p in Platform if spec_for(p).keeps_sync_key)
        return keeps
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Actions that write to the target platform.
WRITES = frozenset({ActionKind.CREATE, ActionKind.UPDATE, ActionKind.DELETE, ActionKind.ADOPT})


class _Held:
    """A :class:`PlannedAction` field holding one side's milestone as its row: set with a ``Milestone`` or a
    :class:`~._rows.MilestoneRow`, read as a ``Milestone``. A plan of 100,000 unchanged pairs then holds
    rows (no pydantic model, no wire payload); a milestone given as a model is read back as that model."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = "_" + name

    @overload
    def __get__(self, action: None, owner: type | None = None) -> None: ...
    @overload
    def __get__(self, action: object, owner: type | None = None) -> Milestone | None: ...
    def __get__(self, action: object, owner: type | None = None) -> Milestone | None:
        if action is None:
            return None  # the field's default
        row = self.row(action)
        return None if row is None else row.milestone()

    def __set__(self, action: object, value: Milestone | MilestoneRow | None) -> None:
        row = value if value is None or isinstance(value, MilestoneRow) else row_of(value)
        object.__setattr__(action, self._name, row)

    def row(self, action: object) -> MilestoneRow | None:
        """The row itself, for the planner and the applier (no model built). Read as an attribute, not from
        ``__dict__``: asking an instance for its ``__dict__`` makes one (64 bytes an action, kept for good)."""
        row = getattr(action, self._name)
        if type(row) is Translation:
            assert isinstance(action, PlannedAction)
            return row.of(action)
        return row if isinstance(row, MilestoneRow) else None


class Translation:
    """Stands for an action's desired row that is not kept but translated again from its source when asked.

    An unchanged pair writes nothing, so its translation is read only by the link refresh and the plan's
    output, not planned from: 100,000 pairs in step held 100,000 rows (13 MB) for that. It is made from the
    same values (the source row, the pair, the action's sync key), so it gives what the planner compared.
    The plan's target currency is not needed: a translation only checks an amount against it (and raises),
    and this one passed that check when planned."""

    __slots__ = ("pair",)

    def __init__(self, pair: SyncPair) -> None:
        self.pair = pair

    def of(self, action: PlannedAction) -> MilestoneRow:
        source = _SOURCE.row(action)
        assert source is not None  # only an action with a source leaves its translation to be made again
        return translate_row(source, self.pair, target_currency=None, sync_key=action.sync_key)

    def __reduce__(self) -> tuple[type[Translation], tuple[SyncPair]]:
        return Translation, (self.pair,)


class _HeldLink:
    """:attr:`PlannedAction.link`: set with a :class:`~.store.Link` or the planner's compact
    :class:`~._linked.Linked` (a plan of 100,000 linked pairs then holds no link objects), read as a Link,
    equal to the one the store read."""

    @overload
    def __get__(self, action: None, owner: type | None = None) -> None: ...
    @overload
    def __get__(self, action: object, owner: type | None = None) -> Link | None: ...
    def __get__(self, action: object, owner: type | None = None) -> Link | None:
        if action is None:
            return None  # the field's default
        held = held_link(action)
        return held.link() if type(held) is Linked else held  # type: ignore[return-value]

    def __set__(self, action: object, value: Link | Linked | None) -> None:
        object.__setattr__(action, "_link", value)


def held_link(action: object) -> Link | Linked | None:
    """The action's link as the plan holds it (no Link built): for the planner, which reads its fields. A
    link :func:`planned` folded into its packed bytes is unfolded from the action's own values."""
    held: Link | Linked | bytes | None = object.__getattribute__(action, "_link")
    if type(held) is not bytes:
        return held  # type: ignore[return-value]  # a Link, a Linked or None
    get = object.__getattribute__
    pair: SyncPair = get(action, "_desired").pair  # folded only beside a Translation, which holds the pair
    return unfolded(held, pair.id, get(action, "sync_key"), get(action, "_source"), get(action, "_target"))


def holds_link(action: object, link: Link) -> bool:
    """Whether ``link`` is the one the plan read for ``action`` (its keys and fingerprints, the time aside): an
    unchanged pair's link put again as it is costs a store round trip and a pair version, every run."""
    held = held_link(action)
    return held is not None and (
        held.source_key == link.source_key
        and held.target_key == link.target_key
        and held.source_fp == link.source_fp
        and held.target_fp == link.target_fp
        and held.desired_fp == link.desired_fp
    )


_SOURCE, _TARGET, _DESIRED = _Held(), _Held(), _Held()
_LINK = _HeldLink()


class _ActionSlots:
    """Where a :class:`PlannedAction` keeps its values: slots, not an instance dict. A plan holds one action a
    pair, 100,000 for a re-sync of 100,000 linked pairs; a dict's values cost ~150 bytes each, slots 104."""

    __slots__ = ("_desired", "_link", "_source", "_target", "diff", "fix", "kind", "reason", "sync_key")


@dataclass(frozen=True)
class PlannedAction(_ActionSlots):
    """One decision, with the reason and the field-level diff behind it.

    ``source``, ``target`` and ``desired`` read as milestones; the plan holds them as rows
    (:func:`source_row` and its twins give those).
    """

    __slots__ = ()

    kind: ActionKind
    sync_key: str
    reason: str
    source: _Held = _SOURCE
    target: _Held = _TARGET
    desired: _Held = _DESIRED
    diff: tuple[FieldDiff, ...] = ()
    link: _HeldLink = _LINK
    #: For a DUPLICATE: remove this extra copy (the pair fixes duplicates and the platform can delete it).
    fix: bool = False

    @property
    def title(self) -> str:
        for m in (_DESIRED.row(self), _SOURCE.row(self), _TARGET.row(self)):
            if m is not None:
                return m.title
        return "?"

    @property
    def writes(self) -> bool:
        """True when applying this action sends a write to the target. An ADOPT writes when it has a diff, or
        to put our sync key on a target that lacks it (where the platform keeps one: not crm.com), so that no
        other pair writing into the same container can adopt the same milestone as well."""
        if self.kind is ActionKind.ADOPT:
            target = _TARGET.row(self)
            if target is None or target.locked:
                return False
            return bool(self.diff) or self._needs_sync_key
        if self.kind is ActionKind.DELETE:
            return _TARGET.row(self) is not None
        if self.kind is ActionKind.DUPLICATE:
            return self.fix
        return self.kind in WRITES

    @property
    def _needs_sync_key(self) -> bool:
        t = _TARGET.row(self)
        if t is None or t.platform is None or t.sync_key == self.sync_key:
            return False
        return spec_for(t.platform).keeps_sync_key

    @property
    def shown(self) -> Milestone | None:
        """The milestone a person is shown for this action (the table's amount and due, and the JSON's): what
        the target will hold, else the source, else the target as it is."""
        row = _shown_row(self)
        return None if row is None else row.milestone()

    def to_json(self) -> dict[str, Any]:
        def key(m: MilestoneRow | None) -> str | None:
            return m.text or None if m is not None else None

        shown = _shown_row(self)
        money = shown.amount if shown is not None else None
        desired = _DESIRED.row(self)
        return {
            "action": self.kind.value,
            "sync_key": self.sync_key,
            "title": self.title,
            "amount": str(money.amount) if money is not None else None,
            "currency": money.currency if money is not None else None,
            "due": shown.due.isoformat() if shown is not None and shown.due else None,
            "writes": self.writes,
            "reason": self.reason,
            "source": key(_SOURCE.row(self)),
            "target": key(_TARGET.row(self)),
            "diff": [d.to_json() for d in self.diff],
            "changes": [str(c) for c in (desired.changes if desired else ())],
        }

    def __getstate__(self) -> dict[str, Any]:
        return {name: object.__getattribute__(self, name) for name in _ActionSlots.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():  # frozen: set as __init__ does
            object.__setattr__(self, name, value)


# The dataclass leaves the defaults of ``diff`` and ``fix`` on the class, where they would hide the slots
# (its __init__ has them already). mypy reads the del as a class variable clashing with the slot: it is the
# clash's removal.
del PlannedAction.diff, PlannedAction.fix  # type: ignore[misc]


_new: Final = object.__new__
_set: Final = object.__setattr__


def planned(
    kind: ActionKind,
    sync_key: str,
    reason: str,
    source: MilestoneRow | None = None,
    target: MilestoneRow | None = None,
    desired: MilestoneRow | Translation | None = None,
    diff: tuple[FieldDiff, ...] = (),
    link: Link | Linked | None = None,
    fix: bool = False,
) -> PlannedAction:
    """``PlannedAction(...)`` from rows, for the planner (one a milestone): the same object, its attributes
    set in the order ``__init__`` sets them, without passing each row through the field that takes models.
    ``desired`` may be a :class:`Translation`: the row is made again from the source when read, and ``link``
    a :class:`~._linked.Linked`: read as the Link it stands for. Beside a Translation (an unchanged pair) a
    Linked that holds this action's sync key and rows is kept folded (:func:`~._linked.folded`): its bytes."""
    if type(link) is Linked and type(desired) is Translation:
        link = folded(link, desired.pair.id, sync_key, source, target)  # type: ignore[assignment]
    action: PlannedAction = _new(PlannedAction)
    _set(action, "kind", kind)
    _set(action, "sync_key", sync_key)
    _set(action, "reason", reason)
    _set(action, "_source", source)
    _set(action, "_target", target)
    _set(action, "_desired", desired)
    _set(action, "diff", diff)
    _set(action, "_link", link)
    _set(action, "fix", fix)
    return action


def source_row(action: PlannedAction) -> MilestoneRow | None:
    """The action's source as the plan holds it (no model built)."""
    return _SOURCE.row(action)


def target_row(action: PlannedAction) -> MilestoneRow | None:
    """The action's target as the plan holds it."""
    return _TARGET.row(action)


def desired_row(action: PlannedAction) -> MilestoneRow | None:
    """What the action would write, as the plan holds it."""
    return _DESIRED.row(action)


def _shown_row(action: PlannedAction) -> MilestoneRow | None:
    return _DESIRED.row(action) or _SOURCE.row(action) or _TARGET.row(action)


@dataclass(frozen=True)
class SyncPlan:
    pair: SyncPair
    actions: tuple[PlannedAction, ...]
    policy: ConflictPolicy = ConflictPolicy.REPORT
    created_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    #: The link store's version of the pair when planned; apply refuses the plan once it has moved on.
    links_version: int | None = None
    #: Plan-wide notes, e.g. why the mass-delete guard turned deletes into conflicts.
    notes: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        counter = Counter(a.kind.value for a in self.actions)
        return {kind.value: counter.get(kind.value, 0) for kind in ActionKind}

    @property
    def conflicts(self) -> list[PlannedAction]:
        return [a for a in self.actions if a.kind is ActionKind.CONFLICT]

    @property
    def duplicates(self) -> list[PlannedAction]:
        """Extra target copies of one milestone; the unfixed ones are findings like conflicts."""
        return [a for a in self.actions if a.kind is ActionKind.DUPLICATE]

    @property
    def findings(self) -> list[PlannedAction]:
        """What needs a person: conflicts, and duplicates this run does not remove."""
        return self.conflicts + [a for a in self.duplicates if not a.fix]

    @property
    def has_changes(self) -> bool:
        return any(a.writes or a.kind is ActionKind.ADOPT for a in self.actions)

    @property
    def is_noop(self) -> bool:
        """Nothing to write and nothing to resolve: every action is unchanged or a locked milestone left alone."""
        return all(a.kind in (ActionKind.UNCHANGED, ActionKind.SKIP_LOCKED) for a in self.actions)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": PLAN_SCHEMA_VERSION,
            "pair": self.pair.id,
            "policy": self.policy.value,
            "created_at": self.created_at,
            "counts": self.counts(),
            "notes": list(self.notes),
            "actions": [a.to_json() for a in self.actions],
        }

    def to_json_text(self) -> str:
        return json.dumps(self.to_json(), indent=2)

    def table(self) -> Table:
        """The plan as a rich table, for terminals and notebooks (needs rich: the ``cli`` extra)."""
        from rich.markup import escape
        from rich.table import Table

        table = Table(title=f"Sync plan {self.pair.id}", show_lines=False)
        for column in ("action", "title", "amount", "due", "detail"):
            table.add_column(column)
        styles = {
            ActionKind.CREATE: "green",
            ActionKind.UPDATE: "yellow",
            ActionKind.DELETE: "red",
            ActionKind.ADOPT: "cyan",
            ActionKind.CONFLICT: "bold red",
            ActionKind.DUPLICATE: "bold red",
            ActionKind.SKIP_LOCKED: "magenta",
            ActionKind.UNCHANGED: "dim",
        }
        for a in self.actions:
            shown = _shown_row(a)
            amount = str(shown.amount) if shown is not None and shown.amount is not None else ""
            due = shown.due.isoformat() if shown is not None and shown.due else ""
            detail = "; ".join(f"{d.field}: {_short(d.current)} -> {_short(d.desired)}" for d in a.diff) or a.reason
            desired = _DESIRED.row(a)
            notes = [f"{c.field} {c.kind.value}" for c in (desired.changes if desired else ())]
            if notes and a.kind is not ActionKind.UNCHANGED:
                detail += f" ({', '.join(notes)})"
            table.add_row(a.kind.value, escape(a.title), amount, due, escape(detail), style=styles[a.kind])
        return table

    def summary(self) -> str:
        return ", ".join(f"{n} {kind}" for kind, n in self.counts().items() if n)


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."
