"""The plan: what a sync would do, decided from data alone (no I/O), so it can be shown before it runs.

Safety rules the planner keeps, because a milestone created twice is an invoice sent twice and one deleted
by mistake is revenue lost:

- a listing with one record twice is refused (:class:`DuplicateRecordError`), never planned from;
- several target milestones carrying one sync key are ``duplicate`` findings, never "unchanged";
- an empty source deletes nothing while milestones are linked (unless ``allow_empty_source``), and a plan
  deleting two or more milestones, more than ``max_delete_share`` of the linked ones, deletes nothing (unless
  ``allow_mass_delete``): those deletes become conflicts that say why;
- a target milestone is found by its link, else by our sync key (also the key older versions wrote), else by
  an exact match of every stored field (crm.com: its stage), each looked up in an index, never by scanning.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from .._platform_spec import WriteMode
from .._platforms import spec_for
from ..errors import DuplicateRecordError, TranslationError
from ..model import Milestone
from .actions import KEEPS_SYNC_KEY, WRITES, ActionKind, PlannedAction, SyncPlan
from .links import Link, LinkStore
from .pair import ConflictPolicy, SyncPair, legacy_sync_key, sync_key_for
from .translate import COMPARED_FIELDS, can_delete, comparable, compare, fingerprint, translate

__all__ = [
    "KEEPS_SYNC_KEY",
    "WRITES",
    "ActionKind",
    "PlannedAction",
    "SyncPlan",
    "plan_sync",
    "source_fingerprint",
    "target_fingerprint",
]


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
    """Decide, for every source milestone and every linked target milestone, what a sync should do.

    Raises DuplicateRecordError when either listing holds one milestone twice (a moved page boundary, a
    server repeating itself): such a listing cannot say what exists, so nothing is planned from it.
    """
    with _collector_paused():
        return _plan(pair, source, target, links, policy, target_currency)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while planning. A plan allocates a few objects per pair and
    frees none, which makes the collector walk every listed milestone again and again (29 % of a plan of
    100,000 pairs); planning makes no reference cycles, so the pause leaves nothing uncollected, and the
    collector resumes (if it was running) the moment the plan is made or fails."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _plan(
    pair: SyncPair,
    source: Sequence[Milestone],
    target: Sequence[Milestone],
    links: LinkStore | Iterable[Link],
    policy: ConflictPolicy,
    target_currency: str | None,
) -> SyncPlan:
    if isinstance(links, LinkStore):
        link_list, version = links.links(pair.id), links.version(pair.id)
    else:
        link_list, version = [ln for ln in links if ln.pair_id == pair.id], None
    source_texts = _refuse_repeats(source, "source")
    _refuse_repeats(target, "target")
    by_source = {ln.source_key: ln for ln in link_list}
    linked_targets = {ln.target_id for ln in link_list}
    targets_by_id = {t.key.id: t for t in target if t.key is not None}
    carriers, actions = _sync_key_carriers(pair, target, link_list)
    claimed = {a.target.key.id for a in actions if a.target is not None and a.target.key is not None}
    currency = target_currency or pair.target_currency or _common_currency(target)
    matches = _ExactMatches(pair, target, claimed | linked_targets)

    for s, text in zip(source, source_texts, strict=True):
        if s.key is None:
            raise TranslationError("source milestones must carry their key (read them from a client)", field="key")
        key = sync_key_for(pair, s.key, key_text=text)
        link = by_source.get(text)
        t = targets_by_id.get(link.target_id) if link else None
        if t is None and carriers:
            t = carriers.get(key) or carriers.get(legacy_sync_key(pair, s.key))
        try:
            desired = translate(s, pair, target_currency=currency, sync_key=key)
        except TranslationError as exc:
            actions.append(PlannedAction(ActionKind.CONFLICT, key, f"cannot translate: {exc}", s, t, link=link))
            if t is not None and t.key is not None:
                claimed.add(t.key.id)
                matches.take(t)
            continue
        if t is None and link is None:
            t = matches.find(desired)
        if t is not None and t.key is not None:
            claimed.add(t.key.id)
            matches.take(t)
        actions.append(_decide(pair, policy, s, t, desired, link, key))

    source_keys = set(source_texts)
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
    if spec_for(pair.target).write_mode is WriteMode.WHOLE_SET:
        unsure = any(a.kind is ActionKind.CONFLICT and a.source is not None for a in actions)
        actions.extend(_outside_the_set(pair, target, claimed | linked_targets, unsure))
    # An empty source confirmed with allow_empty_source has already said "delete them all".
    confirmed = not source and pair.allow_empty_source
    guarded, notes = (actions, ()) if confirmed else _guard_mass_delete(pair, actions, len(link_list))
    return SyncPlan(pair, tuple(guarded), policy, links_version=version, notes=notes)


def _refuse_repeats(milestones: Sequence[Milestone], side: str) -> list[str]:
    """Each milestone's key as text (built once, for the link lookups), after refusing a key listed twice."""
    seen: set[str] = set()
    texts = []
    for m in milestones:
        if m.key is None:
            texts.append("")
            continue
        text = str(m.key)
        texts.append(text)
        if text in seen:
            raise DuplicateRecordError(
                f"the {side} listing holds {text} twice; a page boundary moved or the server repeated a "
                "record, so nothing is planned from it (run again)",
                key=text,
            )
        seen.add(text)
    return texts


def _sync_key_carriers(
    pair: SyncPair, target: Sequence[Milestone], link_list: Sequence[Link]
) -> tuple[dict[str, Milestone], list[PlannedAction]]:
    """One target milestone per sync key, and a DUPLICATE action for every other one carrying that key.

    The one kept is the linked one, else a locked (billed) one, which cannot be removed and is the one that
    was invoiced, else the first listed.
    """
    groups: dict[str, list[Milestone]] = {}
    for t in target:
        if t.sync_key:
            groups.setdefault(t.sync_key, []).append(t)
    linked = {ln.sync_key: ln.target_id for ln in link_list}
    kept: dict[str, Milestone] = {}
    duplicates: list[PlannedAction] = []
    for sync_key, group in groups.items():
        keeper = group[0] if len(group) == 1 else _keeper(group, linked.get(sync_key))
        kept[sync_key] = keeper
        for extra in group:
            if extra is not keeper:
                duplicates.append(_duplicate(pair, sync_key, keeper, extra))
    return kept, duplicates


def _keeper(group: list[Milestone], linked_id: str | None) -> Milestone:
    """Of several target milestones with one sync key: the linked one, else a locked one, else the first."""
    keeper = next((t for t in group if t.key is not None and t.key.id == linked_id), None)
    return keeper or next((t for t in group if t.locked), group[0])


def _duplicate(pair: SyncPair, sync_key: str, keeper: Milestone, extra: Milestone) -> PlannedAction:
    kept = str(keeper.key)  # a keeper came from a listing: it has a key
    if extra.locked:
        why, fix = f"another copy of {kept} (same sync key), billed: it cannot be removed; check the invoice", False
    elif not can_delete(pair.target):
        why = f"another copy of {kept} (same sync key); {pair.target.value} cannot delete milestones: remove it by hand"
        fix = False
    elif pair.fix_duplicates:
        why, fix = f"another copy of {kept} (same sync key); removing it (fix_duplicates)", True
    else:
        why, fix = f"another copy of {kept} (same sync key); remove it with --fix-duplicates", False
    return PlannedAction(ActionKind.DUPLICATE, sync_key, why, None, extra, fix=fix)


def _guard_mass_delete(
    pair: SyncPair, actions: list[PlannedAction], linked: int
) -> tuple[list[PlannedAction], tuple[str, ...]]:
    """Deleting more than ``max_delete_share`` of the linked milestones is refused unless allowed: the deletes
    become conflicts naming the guard, the rest of the plan stands."""
    deletes = [a for a in actions if a.kind is ActionKind.DELETE and a.target is not None and a.link is not None]
    # One milestone deleted is an edit, not a mass deletion, however small the pair.
    if pair.allow_mass_delete or len(deletes) < 2 or len(deletes) <= pair.max_delete_share * linked:
        return actions, ()
    note = (
        f"mass-delete guard: this plan would delete {len(deletes)} of the {linked} linked milestones, more than "
        f"{pair.max_delete_share:.0%}; nothing is deleted. If the source really lost them, allow it with "
        "--allow-mass-delete (or allow_mass_delete / max_delete_share on the pair)"
    )
    refused = {id(a) for a in deletes}
    guarded = [
        replace(a, kind=ActionKind.CONFLICT, reason=f"{a.reason}; not deleted: {note}") if id(a) in refused else a
        for a in actions
    ]
    return guarded, (note,)


class _ExactMatches:
    """Unlinked target milestones without a sync key, indexed by every stored field (crm.com: by stage,
    which holds one milestone), so an exact-match adoption is a lookup, not a scan of the target."""

    def __init__(self, pair: SyncPair, target: Sequence[Milestone], taken: set[str]) -> None:
        self.pair = pair
        self.by_trigger = spec_for(pair.target).adopt_by_trigger
        self._by: dict[Any, list[Milestone]] = {}
        for t in target:
            if t.key is None or t.key.id in taken or t.sync_key is not None:
                continue
            self._by.setdefault(self._index(t), []).append(t)
        self._taken: set[str] = set()

    def _index(self, m: Milestone) -> Any:
        if self.by_trigger:
            return comparable(m, self.pair.target, ("trigger",))
        return comparable(m, self.pair.target)

    def find(self, desired: Milestone) -> Milestone | None:
        for t in self._by.get(self._index(desired), ()):
            if t.key is not None and t.key.id not in self._taken:
                return t
        return None

    def take(self, t: Milestone) -> None:
        if t.key is not None:
            self._taken.add(t.key.id)


def _outside_the_set(
    pair: SyncPair, target: Sequence[Milestone], accounted: set[str], unsure: bool
) -> list[PlannedAction]:
    """A whole-set target (crm.com) takes the milestone set at once, so a stage the source has no milestone
    for is dropped by the write: say so in the plan rather than let it vanish. While some source milestone is
    a conflict, nobody knows which stage it belongs to, so no stage is dropped."""
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


def _common_currency(milestones: Sequence[Milestone]) -> str | None:
    currencies = {m.amount.currency for m in milestones if m.amount is not None}
    return currencies.pop() if len(currencies) == 1 else None
