"""The plan: what a sync would do, decided from data alone (no I/O), so it can be shown before it runs."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from rich.markup import escape
from rich.table import Table

from ..errors import TranslationError
from ..model import Milestone, Platform
from .links import Link, LinkStore
from .pair import ConflictPolicy, SyncPair, sync_key_for
from .translate import COMPARED_FIELDS, FieldDiff, can_delete, compare, fingerprint, translate

__all__ = ["ActionKind", "PlannedAction", "SyncPlan", "plan_sync", "source_fingerprint", "target_fingerprint"]


class ActionKind(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    ADOPT = "adopt"
    SKIP_LOCKED = "skip-locked"
    CONFLICT = "conflict"
    UNCHANGED = "unchanged"


#: Platforms that keep our sync key on a milestone (Kantata: an external reference; Autotask: a description
#: marker). crm.com keeps no references: there a stage identifies the milestone.
KEEPS_SYNC_KEY = frozenset({Platform.KANTATA, Platform.AUTOTASK})

#: Actions that write to the target platform.
WRITES = frozenset({ActionKind.CREATE, ActionKind.UPDATE, ActionKind.DELETE, ActionKind.ADOPT})


@dataclass(frozen=True)
class PlannedAction:
    """One decision, with the reason and the field-level diff behind it."""

    kind: ActionKind
    sync_key: str
    reason: str
    source: Milestone | None = None
    target: Milestone | None = None
    desired: Milestone | None = None
    diff: tuple[FieldDiff, ...] = ()
    link: Link | None = None

    @property
    def title(self) -> str:
        for m in (self.desired, self.source, self.target):
            if m is not None:
                return m.title
        return "?"

    @property
    def writes(self) -> bool:
        """True when applying this action sends a write to the target. An ADOPT writes when it has a diff, or
        to put our sync key on a target that lacks it (where the platform keeps one: not crm.com), so that no
        other pair writing into the same container can adopt the same milestone as well."""
        if self.kind is ActionKind.ADOPT:
            if self.target is None or self.target.locked:
                return False
            return bool(self.diff) or self._needs_sync_key
        if self.kind is ActionKind.DELETE:
            return self.target is not None
        return self.kind in WRITES

    @property
    def _needs_sync_key(self) -> bool:
        t = self.target
        return t is not None and t.key is not None and t.key.platform in KEEPS_SYNC_KEY and t.sync_key != self.sync_key

    def to_json(self) -> dict[str, Any]:
        def key(m: Milestone | None) -> str | None:
            return str(m.key) if m is not None and m.key is not None else None

        return {
            "action": self.kind.value,
            "sync_key": self.sync_key,
            "title": self.title,
            "reason": self.reason,
            "source": key(self.source),
            "target": key(self.target),
            "diff": [d.to_json() for d in self.diff],
            "changes": [str(c) for c in (self.desired.changes if self.desired else ())],
        }


@dataclass(frozen=True)
class SyncPlan:
    pair: SyncPair
    actions: tuple[PlannedAction, ...]
    policy: ConflictPolicy = ConflictPolicy.REPORT
    created_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    def counts(self) -> dict[str, int]:
        counter = Counter(a.kind.value for a in self.actions)
        return {kind.value: counter.get(kind.value, 0) for kind in ActionKind}

    @property
    def conflicts(self) -> list[PlannedAction]:
        return [a for a in self.actions if a.kind is ActionKind.CONFLICT]

    @property
    def has_changes(self) -> bool:
        return any(a.writes or a.kind is ActionKind.ADOPT for a in self.actions)

    @property
    def is_noop(self) -> bool:
        """Nothing to write and nothing to resolve: every action is unchanged or a locked milestone left alone."""
        return all(a.kind in (ActionKind.UNCHANGED, ActionKind.SKIP_LOCKED) for a in self.actions)

    def to_json(self) -> dict[str, Any]:
        return {
            "pair": self.pair.id,
            "policy": self.policy.value,
            "created_at": self.created_at,
            "counts": self.counts(),
            "actions": [a.to_json() for a in self.actions],
        }

    def to_json_text(self) -> str:
        return json.dumps(self.to_json(), indent=2)

    def table(self) -> Table:
        """The plan as a rich table, for terminals and notebooks."""
        table = Table(title=f"Sync plan {self.pair.id}", show_lines=False)
        for column in ("action", "title", "amount", "due", "detail"):
            table.add_column(column)
        styles = {
            ActionKind.CREATE: "green",
            ActionKind.UPDATE: "yellow",
            ActionKind.DELETE: "red",
            ActionKind.ADOPT: "cyan",
            ActionKind.CONFLICT: "bold red",
            ActionKind.SKIP_LOCKED: "magenta",
            ActionKind.UNCHANGED: "dim",
        }
        for a in self.actions:
            shown = a.desired or a.source or a.target
            amount = str(shown.amount) if shown is not None and shown.amount is not None else ""
            due = shown.due.isoformat() if shown is not None and shown.due else ""
            detail = "; ".join(f"{d.field}: {_short(d.current)} -> {_short(d.desired)}" for d in a.diff) or a.reason
            notes = [f"{c.field} {c.kind.value}" for c in (a.desired.changes if a.desired else ())]
            if notes and a.kind is not ActionKind.UNCHANGED:
                detail += f" ({', '.join(notes)})"
            table.add_row(a.kind.value, escape(a.title), amount, due, escape(detail), style=styles[a.kind])
        return table

    def summary(self) -> str:
        return ", ".join(f"{n} {kind}" for kind, n in self.counts().items() if n)


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def source_fingerprint(milestone: Milestone) -> str:
    return fingerprint(milestone, ("title", "description", "amount", "percentage", "due", "trigger", "status"))


def target_fingerprint(milestone: Milestone, pair: SyncPair) -> str:
    return fingerprint(milestone, COMPARED_FIELDS[pair.target])


def plan_sync(
    pair: SyncPair,
    source: Sequence[Milestone],
    target: Sequence[Milestone],
    links: LinkStore | Iterable[Link] = (),
    *,
    policy: ConflictPolicy = ConflictPolicy.REPORT,
    target_currency: str | None = None,
) -> SyncPlan:
    """Decide, for every source milestone and every linked target milestone, what a sync should do."""
    link_list = links.links(pair.id) if isinstance(links, LinkStore) else [ln for ln in links if ln.pair_id == pair.id]
    by_source = {ln.source_key: ln for ln in link_list}
    linked_targets = {ln.target_id for ln in link_list}
    targets_by_id = {t.key.id: t for t in target if t.key is not None}
    targets_by_sync = {t.sync_key: t for t in target if t.sync_key}
    currency = target_currency or pair.target_currency or _common_currency(target)
    claimed: set[str] = set()
    actions: list[PlannedAction] = []

    for s in source:
        if s.key is None:
            raise TranslationError("source milestones must carry their key (read them from a client)", field="key")
        key = sync_key_for(pair, s.key)
        link = by_source.get(str(s.key))
        t = targets_by_id.get(link.target_id) if link else None
        if t is None:
            t = targets_by_sync.get(key)
        try:
            desired = translate(s, pair, target_currency=currency).with_sync_key(key)
        except TranslationError as exc:
            actions.append(PlannedAction(ActionKind.CONFLICT, key, f"cannot translate: {exc}", s, t, link=link))
            if t is not None and t.key is not None:
                claimed.add(t.key.id)
            continue
        if t is None and link is None:
            t = _exact_match(desired, target, pair, claimed | linked_targets)
        if t is not None and t.key is not None:
            claimed.add(t.key.id)
        actions.append(_decide(pair, policy, s, t, desired, link, key))

    source_keys = {str(s.key) for s in source}
    suspicious = not source and not pair.allow_empty_source
    for link in link_list:
        if link.source_key in source_keys:
            continue
        t = targets_by_id.get(link.target_id)
        if suspicious and t is not None and pair.delete_missing:
            why = (
                f"the source listed no milestones at all while {len(link_list)} are linked; deleting them all "
                "needs confirming (allow_empty_source on the pair)"
            )
            actions.append(PlannedAction(ActionKind.CONFLICT, link.sync_key, why, None, t, link=link))
            continue
        actions.append(_orphan(pair, link, t))
    if pair.target is Platform.CRMCOM:
        unsure = any(a.kind is ActionKind.CONFLICT and a.source is not None for a in actions)
        actions.extend(_outside_the_set(pair, target, claimed | linked_targets, unsure))
    return SyncPlan(pair, tuple(actions), policy)


def _outside_the_set(
    pair: SyncPair, target: Sequence[Milestone], accounted: set[str], unsure: bool
) -> list[PlannedAction]:
    """crm.com takes the whole milestone set at once, so a stage the source has no milestone for is dropped
    by the write: say so in the plan rather than let it vanish. While some source milestone is a conflict,
    nobody knows which stage it belongs to, so no stage is dropped."""
    out = []
    for t in target:
        if t.key is None or t.key.id in accounted:
            continue
        if unsure:
            why = "kept: a source milestone could not be translated, so which stages it covers is unknown"
            out.append(PlannedAction(ActionKind.UNCHANGED, f"unlinked:{t.key.id}", why, None, t))
        elif pair.delete_missing:
            why = "crm.com takes the whole set and the source has no milestone for this stage"
            out.append(PlannedAction(ActionKind.DELETE, f"unlinked:{t.key.id}", why, None, t))
        else:
            why = "not in the source; kept in the set because delete_missing is off"
            out.append(PlannedAction(ActionKind.UNCHANGED, f"unlinked:{t.key.id}", why, None, t))
    return out


def _decide(
    pair: SyncPair,
    policy: ConflictPolicy,
    s: Milestone,
    t: Milestone | None,
    desired: Milestone,
    link: Link | None,
    key: str,
) -> PlannedAction:
    if t is None and s.locked:
        # No platform lets us create an already-invoiced milestone: created open, it could be billed twice.
        why = f"{s.status.value} in the source; not created on the target, where it would be billable again"
        return PlannedAction(ActionKind.SKIP_LOCKED, key, why, s, None, desired, link=link)
    if link is None:
        if t is None:
            return PlannedAction(ActionKind.CREATE, key, "new in source", s, None, desired)
        diff = tuple(compare(desired, t, pair.target))
        how = "carries our sync key" if t.sync_key == key else "matches exactly"
        action = PlannedAction(ActionKind.ADOPT, key, f"target milestone {how}; linking it", s, t, desired, diff)
        if action.writes:
            what = "updating it" if diff else "marking it with our sync key"
            action = replace(action, reason=f"{action.reason} and {what}")
        return action
    if t is None:
        if policy is ConflictPolicy.SOURCE_WINS:
            return PlannedAction(ActionKind.CREATE, key, "deleted on target; source wins", s, None, desired, link=link)
        return PlannedAction(
            ActionKind.CONFLICT, key, "deleted on the target since the last sync", s, None, desired, link=link
        )
    diff = tuple(compare(desired, t, pair.target))
    if not diff:
        return PlannedAction(ActionKind.UNCHANGED, key, "in step", s, t, desired, link=link)
    if t.locked:
        return PlannedAction(
            ActionKind.SKIP_LOCKED, key, "target is billed/invoiced and locked", s, t, desired, diff, link
        )
    source_changed = source_fingerprint(s) != link.source_fp
    target_changed = target_fingerprint(t, pair) != link.target_fp
    if source_changed and target_changed:
        if policy is ConflictPolicy.SOURCE_WINS:
            return PlannedAction(ActionKind.UPDATE, key, "both changed; source wins", s, t, desired, diff, link)
        if policy is ConflictPolicy.TARGET_WINS:
            return PlannedAction(ActionKind.UNCHANGED, key, "both changed; target wins", s, t, desired, (), link)
        return PlannedAction(
            ActionKind.CONFLICT, key, "both sides changed since the last sync", s, t, desired, diff, link
        )
    if target_changed and policy is ConflictPolicy.TARGET_WINS:
        return PlannedAction(ActionKind.UNCHANGED, key, "target edited; target wins", s, t, desired, (), link)
    if not source_changed and not target_changed:
        # Neither side moved: either the difference was accepted (target-wins) or the translation changed.
        if link.desired_fp and link.desired_fp == target_fingerprint(desired, pair):
            why = "differs from the source as accepted at the last sync (target-wins)"
            return PlannedAction(ActionKind.UNCHANGED, key, why, s, t, desired, (), link)
        why = "the pair's translation changed since the last sync" if link.desired_fp else "differs from the source"
        return PlannedAction(ActionKind.UPDATE, key, why, s, t, desired, diff, link)
    reason = "changed in source" if source_changed else "target edited outside the sync; restoring the source"
    return PlannedAction(ActionKind.UPDATE, key, reason, s, t, desired, diff, link)


def _orphan(pair: SyncPair, link: Link, t: Milestone | None) -> PlannedAction:
    if t is None:
        return PlannedAction(ActionKind.DELETE, link.sync_key, "gone on both sides; forgetting the link", link=link)
    if not pair.delete_missing:
        return PlannedAction(
            ActionKind.UNCHANGED, link.sync_key, "deleted in source; delete_missing is off", None, t, link=link
        )
    if t.locked:
        return PlannedAction(
            ActionKind.SKIP_LOCKED, link.sync_key, "deleted in source, but the target is locked", None, t, link=link
        )
    if not can_delete(pair.target):
        return PlannedAction(
            ActionKind.CONFLICT,
            link.sync_key,
            f"deleted in source, but {pair.target.value} does not allow deleting milestones",
            None,
            t,
            link=link,
        )
    return PlannedAction(ActionKind.DELETE, link.sync_key, "deleted in source", None, t, link=link)


def _exact_match(desired: Milestone, target: Sequence[Milestone], pair: SyncPair, taken: set[str]) -> Milestone | None:
    """An unlinked target milestone that is this one: equal in every stored field, or, on crm.com, where a
    stage holds one milestone, the one on the same stage (adopted, then updated if it differs)."""
    for t in target:
        if t.key is None or t.key.id in taken or t.sync_key is not None:
            continue
        same_stage = pair.target is Platform.CRMCOM and t.trigger == desired.trigger
        if same_stage or not compare(desired, t, pair.target):
            return t
    return None


def _common_currency(milestones: Sequence[Milestone]) -> str | None:
    currencies = {m.amount.currency for m in milestones if m.amount is not None}
    return currencies.pop() if len(currencies) == 1 else None
