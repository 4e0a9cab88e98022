"""Compare two systems' milestones for a pair, writing nothing: what matches, what differs, what is one-sided.

A reconcile is the sync engine's own plan read as a report. :func:`plan_sync` pairs every source milestone
with a target milestone (link store, then our sync key, then an exact match) and translates it into what
the target should hold; :func:`compare` gives the field differences. Nothing here decides anything the
planner does not, so a report and a ``milestones plan`` of the same pair never disagree about what is
paired with what. The planner is pure and the link store is only read, so neither system nor the store
changes.
"""

from __future__ import annotations

import importlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ..model import Milestone, Trigger
from ..money import Money
from .actions import ActionKind, PlannedAction, held_link, target_row
from .apply import load_sides
from .links import Link, LinkStore
from .pair import SyncPair
from .plan import plan_sync
from .translate import FieldDiff, compare

__all__ = ["Difference", "ReconcileEntry", "ReconcileReport", "ReconcileStatus", "reconcile"]


class ReconcileStatus(StrEnum):
    """Where one milestone stands between the two systems."""

    #: Paired, and every field the target stores is equal to the source's (as translated for the target).
    MATCH = "match"
    #: Paired, but some stored fields differ: :attr:`ReconcileEntry.differences` lists them.
    DIFFER = "differ"
    #: In the source only (new, or deleted on the target since the last sync).
    SOURCE_ONLY = "source-only"
    #: On the target only (deleted in the source, an extra copy, or never synced).
    TARGET_ONLY = "target-only"
    #: The source milestone cannot be carried to the target as it is, so it cannot be compared.
    UNTRANSLATABLE = "untranslatable"


@dataclass(frozen=True)
class Difference:
    """One stored field that differs, with both values (the source's as the target would hold it)."""

    field: str
    source: Any
    target: Any

    @classmethod
    def of(cls, diff: FieldDiff) -> Difference:
        return cls(diff.field, source=diff.desired, target=diff.current)

    def to_json(self) -> dict[str, Any]:
        # The plan JSON's rendering of values (100.00 reads "100"), so both documents agree.
        shown = FieldDiff(self.field, self.target, self.source).to_json()
        return {"field": self.field, "source": shown["desired"], "target": shown["current"]}

    def __str__(self) -> str:
        return f"{self.field}: source {_text(self.source)}, target {_text(self.target)}"


@dataclass(frozen=True)
class ReconcileEntry:
    """One milestone (or a pair of them) in the report, and why it stands where it does."""

    status: ReconcileStatus
    title: str
    reason: str
    #: The source milestone as read, and as the target should hold it (translated); None when absent.
    source: Milestone | None = None
    desired: Milestone | None = None
    target: Milestone | None = None
    differences: tuple[Difference, ...] = ()
    sync_key: str | None = None
    #: What a sync of the pair would do about it (None for a target milestone no plan action names).
    planned: ActionKind | None = None

    def to_json(self) -> dict[str, Any]:
        shown = self.desired or self.source
        return {
            "status": self.status.value,
            "title": self.title,
            "reason": self.reason,
            "sync_key": self.sync_key,
            "planned": self.planned.value if self.planned is not None else None,
            "source": _key(self.source),
            "target": _key(self.target),
            "source_amount": _money(shown),
            "target_amount": _money(self.target),
            "source_due": _due(shown),
            "target_due": _due(self.target),
            "differences": [d.to_json() for d in self.differences],
        }


@dataclass(frozen=True)
class ReconcileReport:
    """Every milestone of a pair's two containers, once, with its status and reason."""

    pair: SyncPair
    entries: tuple[ReconcileEntry, ...]
    #: Plan-wide notes from the planner (e.g. the mass-delete guard).
    notes: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[ReconcileEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def in_step(self) -> bool:
        """True when every entry matches (an empty pair is in step too)."""
        return all(e.status is ReconcileStatus.MATCH for e in self.entries)

    def counts(self) -> dict[str, int]:
        """Entries per status, every status present (zero included) in a fixed order."""
        counter = Counter(e.status for e in self.entries)
        return {status.value: counter.get(status, 0) for status in ReconcileStatus}

    def summary(self) -> str:
        return ", ".join(f"{n} {status}" for status, n in self.counts().items() if n) or "no milestones on either side"

    def with_status(self, *statuses: ReconcileStatus) -> list[ReconcileEntry]:
        return [e for e in self.entries if e.status in statuses]

    def to_json(self) -> dict[str, Any]:
        return {
            "pair": self.pair.id,
            "in_step": self.in_step,
            "counts": self.counts(),
            "notes": list(self.notes),
            "entries": [e.to_json() for e in self.entries],
        }

    def to_json_text(self) -> str:
        return json.dumps(self.to_json(), indent=2)

    def to_frame(self) -> Any:
        """A ``pandas.DataFrame``, one row per milestone (needs pandas: the ``notebooks`` extra).

        Amounts stay exact (:class:`~decimal.Decimal`, with a currency column); every column is of object
        dtype so an absent value is ``None`` throughout, never ``NaN`` in one column and ``None`` in the next.
        """
        pd = _pandas()
        rows = []
        for e in self.entries:
            shown = e.desired or e.source
            rows.append(
                {
                    "status": e.status.value,
                    "title": e.title,
                    "source_amount": _amount(shown),
                    "target_amount": _amount(e.target),
                    "currency": _currency(shown) or _currency(e.target),
                    "source_due": shown.due if shown is not None else None,
                    "target_due": e.target.due if e.target is not None else None,
                    "fields": ", ".join(d.field for d in e.differences) or None,
                    "reason": e.reason,
                }
            )
        return pd.DataFrame(rows, columns=_FRAME_COLUMNS, dtype=object)

    def differences_frame(self) -> Any:
        """A ``pandas.DataFrame``, one row per differing field: title, field, both values as text (needs pandas)."""
        pd = _pandas()
        rows = [
            {"title": e.title, "field": d.field, "source": _text(d.source), "target": _text(d.target)}
            for e in self.entries
            for d in e.differences
        ]
        return pd.DataFrame(rows, columns=["title", "field", "source", "target"], dtype=object)


_FRAME_COLUMNS = [
    "status",
    "title",
    "source_amount",
    "target_amount",
    "currency",
    "source_due",
    "target_due",
    "fields",
    "reason",
]


def reconcile(pair: SyncPair, clients: Any, store: LinkStore | Iterable[Link] = ()) -> ReconcileReport:
    """Read both containers of ``pair`` and report every milestone's standing; nothing is written.

    ``clients`` is what :func:`load_sides` takes (a mapping of platform -> client, or one client for both).
    ``store`` pairs milestones the way the pair's syncs do: pass the link store they use (it is only read);
    without it, milestones pair by our sync key and by exact match only, so a synced milestone edited on
    one side shows as one-sided rather than as a difference.
    """
    source, target = load_sides(pair, clients)
    plan = plan_sync(pair, source, target, store)
    entries: list[ReconcileEntry] = []
    accounted: set[str] = set()
    for action in plan.actions:
        if (t := target_row(action)) is not None and t.text:
            accounted.add(t.text)
        entry = _entry(pair, action)
        if entry is not None:
            entries.append(entry)
    for m in target:
        if m.text and m.text not in accounted:
            why = "only on the target: no source milestone, link or sync key points at it"
            entries.append(
                ReconcileEntry(ReconcileStatus.TARGET_ONLY, m.title, why, target=m.milestone(), sync_key=m.sync_key)
            )
    return ReconcileReport(pair, tuple(entries), plan.notes)


def _entry(pair: SyncPair, action: PlannedAction) -> ReconcileEntry | None:
    """The report's reading of one planned action; None for a link whose milestone is gone on both sides."""
    s, t, desired = action.source, action.target, action.desired

    def entry(
        status: ReconcileStatus,
        why: str,
        differences: tuple[Difference, ...] = (),
    ) -> ReconcileEntry:
        return ReconcileEntry(status, action.title, why, s, desired, t, differences, action.sync_key, action.kind)

    if s is None and t is None:
        return None
    if s is not None and desired is None:
        return entry(ReconcileStatus.UNTRANSLATABLE, action.reason)
    if s is None:
        return entry(ReconcileStatus.TARGET_ONLY, f"only on the target: {action.reason}")
    if t is None:
        return entry(ReconcileStatus.SOURCE_ONLY, f"only in the source: {action.reason}")
    assert desired is not None  # a source with no translation returned above
    # The planner leaves a diff out where it decided not to act on it (target-wins): a report still shows it.
    diffs = action.diff or tuple(compare(desired, t, pair.target))
    differences = tuple(Difference.of(d) for d in diffs)
    if not differences:
        why = "in step" if held_link(action) is not None else f"equal on both sides, not linked yet: {action.reason}"
        return entry(ReconcileStatus.MATCH, why)
    fields = ", ".join(d.field for d in differences)
    return entry(
        ReconcileStatus.DIFFER,
        f"{fields} {'differs' if len(differences) == 1 else 'differ'}: {action.reason}",
        differences,
    )


def _pandas() -> Any:
    """pandas, imported only when a frame is asked for: it is not a core dependency."""
    try:
        return importlib.import_module("pandas")
    except ImportError as exc:
        raise ImportError("ReconcileReport frames need pandas: pip install 'billing-milestones[notebooks]'") from exc


def _key(m: Milestone | None) -> str | None:
    return str(m.key) if m is not None and m.key is not None else None


def _amount(m: Milestone | None) -> Any:
    return m.amount.amount if m is not None and m.amount is not None else None


def _currency(m: Milestone | None) -> str | None:
    return m.amount.currency if m is not None and m.amount is not None else None


def _money(m: Milestone | None) -> str | None:
    return str(m.amount) if m is not None and m.amount is not None else None


def _due(m: Milestone | None) -> str | None:
    return m.due.isoformat() if m is not None and m.due is not None else None


def _text(value: Any) -> str | None:
    """A field value as a person reads it: money with its currency, dates as ISO text."""
    if value is None:
        return None
    if isinstance(value, Money):
        return str(value)
    if isinstance(value, Trigger):
        return f"{value.kind.value}:{value.ref}" if value.ref else value.kind.value
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)
