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

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from .._http._collector import COLLECTOR_PAUSED
from .._platform_spec import WriteMode
from .._platforms import spec_for
from ..errors import TranslationError
from ..model import Milestone, Platform
from . import actions as _actions
from ._linked import Linked, read_links, source_index
from ._repeats import refuse_repeats
from ._rows import MilestoneRow, row_of
from ._whole_set import outside_the_set
from .actions import (
    WRITES,
    ActionKind,
    PlannedAction,
    SyncPlan,
    Translation,
    desired_row,
    held_link,
    planned,
    source_row,
    target_row,
)
from .links import Link, LinkStore
from .pair import ConflictPolicy, SyncPair, legacy_sync_key, sync_key_of
from .translate import COMPARED_FIELDS, can_delete, comparable, differences, fingerprint, translate_row

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


KEEPS_SYNC_KEY: frozenset[Platform]  # :mod:`.actions`' own, made when first asked for: it reads every spec


def __getattr__(name: str) -> object:
    """``KEEPS_SYNC_KEY``, as :mod:`.actions` gives it."""
    if name == "KEEPS_SYNC_KEY":
        return _actions.KEEPS_SYNC_KEY
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: What the planner takes for each side: milestones, or the rows ``load_sides`` streamed them into.
Listed = Sequence[Milestone | MilestoneRow]
#: A link as the planner reads it: the caller's, or the compact one it keeps of a link read from the store.
AnyLink = Link | Linked
#: A pair with this many links in the store has them kept compact.
COMPACT_FROM = 5000
#: Links are read from the store a page of this many at a time: a page's rows (a dict and eight texts each)
#: are what the planner holds beside its compact links while it reads them (5,000 of them cost 8 MB more).
LINK_PAGE = 1000
#: The source is planned in slices of this many, between which the planner shrinks its index of links.
PART = 8192


def source_fingerprint(milestone: Milestone | MilestoneRow) -> str:
    return fingerprint(milestone, ("title", "description", "amount", "percentage", "due", "trigger", "status"))


def target_fingerprint(milestone: Milestone | MilestoneRow, pair: SyncPair) -> str:
    return fingerprint(milestone, COMPARED_FIELDS[pair.target])


def plan_sync(
    pair: SyncPair,
    source: Listed,
    target: Listed,
    links: LinkStore | Iterable[Link] = (),
    *,
    policy: ConflictPolicy = ConflictPolicy.REPORT,
    target_currency: str | None = None,
) -> SyncPlan:
    """Decide, for every source milestone and every linked target milestone, what a sync should do.

    Each side is a list of milestones or of the rows :func:`~.apply.load_sides` streamed them into (the
    plan is the same either way; a milestone given as a model is the one its actions give back).

    Raises DuplicateRecordError when either listing holds one milestone twice (a moved page boundary, a
    server repeating itself): such a listing cannot say what exists, so nothing is planned from it.
    """
    # The cyclic collector is paused while planning: a plan allocates a few objects per pair and frees none,
    # which makes the collector walk every listed milestone again and again (29 % of a plan of 100,000
    # pairs); planning makes no cycles, so nothing is left uncollected. The pause is the read path's
    # (_http/_collector.py, a depth count under a lock): one of its own could leave the collector off for good.
    with COLLECTOR_PAUSED:
        return _plan(pair, _as_rows(source), _as_rows(target), links, policy, target_currency)


def _as_rows(milestones: Listed) -> list[MilestoneRow]:
    """Rows for the planner; a milestone's row holds the milestone itself (the caller holds it anyway)."""
    return [m if isinstance(m, MilestoneRow) else row_of(m) for m in milestones]


def _plan(
    pair: SyncPair,
    source: list[MilestoneRow],
    target: list[MilestoneRow],
    links: LinkStore | Iterable[Link],
    policy: ConflictPolicy,
    target_currency: str | None,
) -> SyncPlan:
    refuse_repeats(source, "source")
    refuse_repeats(target, "target")
    targets_by_id = {t.id: t for t in target if t.id is not None}
    link_list: Sequence[AnyLink]
    # compact: the links are the store's, packed (one a source key); held: each holds its listed target row
    held = compact = False
    prefix = f"{pair.source.value}:{pair.source_container}/"  # a listed source key's, before its id
    if isinstance(links, LinkStore):
        # The version first: a link changed while the pages are read moves it on, and apply refuses the plan.
        version = links.version(pair.id)
        # Read a page at a time and, from COMPACT_FROM on, kept compact: 100,000 links as the store reads them
        # cost 60 MB. A pair with fewer is small, and packing them would cost more CPU than it saves memory.
        link_list, compact, held = read_links(links, pair.id, targets_by_id, COMPACT_FROM, LINK_PAGE, prefix)
    else:
        link_list, version = [ln for ln in links if ln.pair_id == pair.id], None
    whole_set = spec_for(pair.target).write_mode is WriteMode.WHOLE_SET
    linked_targets = _linked_targets(target, targets_by_id, link_list, whole_set)
    if held:
        # Each link gives its target row as the index would (Linked.target_in): let the index go before
        # the next ones are built (5 MB at 100,000 pairs, held to the end of the plan otherwise).
        targets_by_id = {}
    # Links by source key; each link's target is looked up when its source is planned (no per-link tuple
    # or parsed id is kept: at 100,000 pairs each such index costs megabytes).
    by_source = {(ln.index if type(ln) is Linked else ln.source_key): ln for ln in link_list}
    carriers, actions = _sync_key_carriers(pair, target, link_list)
    linked_count = len(link_list)
    indexed_only = compact and len(by_source) == linked_count
    if indexed_only:
        # One link a source key (the store's unique index): the index alone holds each link until its source
        # is planned (an unchanged action keeps it folded, so it goes then: 8 MB at 100,000), and what is
        # left in it afterwards are the orphans, in order.
        link_list = ()
    claimed = {t.id for a in actions if (t := target_row(a)) is not None and t.id is not None}
    currency = target_currency or pair.target_currency or _common_currency(target)
    matches = _ExactMatches(pair, target, claimed | linked_targets)
    fields = COMPARED_FIELDS[pair.target]
    again = Translation(pair)
    # Only a whole-set target reads, after the loop, which target milestones the source accounted for.
    claim = claimed.add if whole_set else _no_claim

    built = len(by_source)
    for part in _parts(source):
        if len(by_source) * 4 <= built:
            # Popped down to a quarter: made again at its size (a dict never shrinks), so a plan of 100,000
            # pairs ends without holding an index of them all (5 MB) beside its actions.
            by_source = dict(by_source)
            built = len(by_source)
        for s in part:
            if s.id is None or s.platform is None:
                why = "source milestones must carry their key (read them from a client)"
                raise TranslationError(why, field="key")
            text = s.text
            key = sync_key_of(pair, s.platform, s.id, s.stable_id, text)
            t = None
            # what is left once the source is read: the orphans' (a compact link's key is source_index's)
            link = by_source.pop(source_index(text, prefix) if compact else text, None)
            if link is not None:
                if type(link) is Linked:
                    link.listed(s)  # the row for the key's text, which goes with the index's entry
                    t = link.target_in(targets_by_id)
                else:
                    t = targets_by_id.get(link.target_id)
                if link.sync_key == key:
                    key = link.sync_key  # one text for both (100,000 plans hold 100,000 keys)
            if t is None and carriers:
                t = carriers.get(key) or carriers.get(legacy_sync_key(pair, text))
            try:
                desired = translate_row(s, pair, target_currency=currency, sync_key=key)
            except TranslationError as exc:
                actions.append(planned(ActionKind.CONFLICT, key, f"cannot translate: {exc}", s, t, link=link))
                if t is not None and t.id is not None:
                    claim(t.id)
                    matches.take(t)
                continue
            if t is None and link is None:
                t = matches.find(desired)
            if t is not None and t.id is not None:
                claim(t.id)
                matches.take(t)
            actions.append(_decide(pair, policy, fields, s, t, desired, link, key, again))

    suspicious = not source and not pair.allow_empty_source
    for link in list(by_source.values()) if indexed_only else link_list:
        if link.planned if type(link) is Linked else link.source_key not in by_source:  # its source was listed
            continue
        t = link.target_in(targets_by_id) if type(link) is Linked else targets_by_id.get(link.target_id)
        if suspicious and t is not None and pair.delete_missing:
            why = (
                f"the source listed no milestones at all while {linked_count} are linked; deleting them all "
                "needs confirming (allow_empty_source on the pair)"
            )
            actions.append(planned(ActionKind.CONFLICT, link.sync_key, why, None, t, link=link))
            continue
        actions.append(_orphan(pair, link, t))
    if whole_set:
        unsure = any(a.kind is ActionKind.CONFLICT and source_row(a) is not None for a in actions)
        actions.extend(outside_the_set(pair, target, claimed | linked_targets, unsure))
    # An empty source confirmed with allow_empty_source has already said "delete them all".
    confirmed = not source and pair.allow_empty_source
    guarded, notes = (actions, ()) if confirmed else _guard_mass_delete(pair, actions, linked_count)
    return SyncPlan(pair, tuple(guarded), policy, links_version=version, notes=notes)


def _parts(rows: list[MilestoneRow]) -> Iterator[list[MilestoneRow]]:
    """``rows`` in slices of ``PART``, between which the planner tidies its indexes."""
    for start in range(0, len(rows), PART):
        yield rows[start : start + PART]


def _sync_key_carriers(
    pair: SyncPair, target: list[MilestoneRow], links: Sequence[AnyLink]
) -> tuple[dict[str, MilestoneRow], list[PlannedAction]]:
    """One target milestone per sync key, and a DUPLICATE action for every other one carrying that key.

    The one kept is the linked one, else a locked (billed) one, which cannot be removed and is the one that
    was invoiced, else the first listed.
    """
    kept: dict[str, MilestoneRow] = {}
    # Only keys carried more than once get a group (all of its carriers, in listing order).
    groups: dict[str, list[MilestoneRow]] = {}
    for t in target:
        sync_key = t.sync_key
        if sync_key:
            first = kept.setdefault(sync_key, t)
            if first is not t:
                groups.setdefault(sync_key, [first]).append(t)
    duplicates: list[PlannedAction] = []
    if not groups:
        return kept, duplicates
    linked = {ln.sync_key: ln.target_id for ln in links}
    for sync_key in kept:  # in the order each key was first listed
        group = groups.get(sync_key)
        if group is None:
            continue
        keeper = kept[sync_key] = _keeper(group, linked.get(sync_key))
        for extra in group:
            if extra is not keeper:
                duplicates.append(_duplicate(pair, sync_key, keeper, extra))
    return kept, duplicates


def _linked_targets(
    target: list[MilestoneRow], targets_by_id: dict[str, MilestoneRow], links: Sequence[AnyLink], whole_set: bool
) -> set[str]:
    """The ids of the listed target milestones that are linked, where something reads them: a whole-set
    target (the stages the source accounts for) or exact matching (unlinked milestones without a sync key);
    a listing whose milestones all carry a sync key needs none. Each id is the row's own text."""
    if not whole_set and all(t.sync_key is not None for t in target if t.id is not None):
        return set()
    return {t.id for ln in links if (t := targets_by_id.get(ln.target_id)) is not None and t.id is not None}


def _no_claim(target_id: str) -> None:
    """A claim nobody reads (only a whole-set target asks which milestones the source accounted for)."""


def _keeper(group: list[MilestoneRow], linked_id: str | None) -> MilestoneRow:
    """Of several target milestones with one sync key: the linked one, else a locked one, else the first."""
    keeper = next((t for t in group if t.id is not None and t.id == linked_id), None)
    return keeper or next((t for t in group if t.locked), group[0])


def _duplicate(pair: SyncPair, sync_key: str, keeper: MilestoneRow, extra: MilestoneRow) -> PlannedAction:
    kept = keeper.text  # a keeper came from a listing: it has a key
    if extra.locked:
        why, fix = f"another copy of {kept} (same sync key), billed: it cannot be removed; check the invoice", False
    elif not can_delete(pair.target):
        why = f"another copy of {kept} (same sync key); {pair.target.value} cannot delete milestones: remove it by hand"
        fix = False
    elif pair.fix_duplicates:
        why, fix = f"another copy of {kept} (same sync key); removing it (fix_duplicates)", True
    else:
        why, fix = f"another copy of {kept} (same sync key); remove it with --fix-duplicates", False
    return planned(ActionKind.DUPLICATE, sync_key, why, None, extra, fix=fix)


def _guard_mass_delete(
    pair: SyncPair, actions: list[PlannedAction], linked: int
) -> tuple[list[PlannedAction], tuple[str, ...]]:
    """Deleting more than ``max_delete_share`` of the linked milestones is refused unless allowed: the deletes
    become conflicts naming the guard, the rest of the plan stands."""
    deletes = [
        a for a in actions if a.kind is ActionKind.DELETE and target_row(a) is not None and held_link(a) is not None
    ]
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
        _recast(a, ActionKind.CONFLICT, f"{a.reason}; not deleted: {note}") if id(a) in refused else a for a in actions
    ]
    return guarded, (note,)


def _recast(a: PlannedAction, kind: ActionKind, reason: str) -> PlannedAction:
    """``a`` with another kind and reason, its rows carried over as they are (no model built)."""
    return planned(
        kind, a.sync_key, reason, source_row(a), target_row(a), desired_row(a), a.diff, held_link(a), fix=a.fix
    )


class _ExactMatches:
    """Unlinked target milestones without a sync key, indexed by every stored field (crm.com: by stage,
    which holds one milestone), so an exact-match adoption is a lookup, not a scan of the target."""

    def __init__(self, pair: SyncPair, target: list[MilestoneRow], taken: set[str]) -> None:
        self.pair = pair
        self.by_trigger = spec_for(pair.target).adopt_by_trigger
        self._by: dict[Any, list[MilestoneRow]] = {}
        for t in target:
            if t.id is None or t.id in taken or t.sync_key is not None:
                continue
            self._by.setdefault(self._index(t), []).append(t)
        self._taken: set[str] = set()

    def _index(self, m: MilestoneRow) -> Any:
        if self.by_trigger:
            return comparable(m, self.pair.target, ("trigger",))
        return comparable(m, self.pair.target)

    def find(self, desired: MilestoneRow) -> MilestoneRow | None:
        if not self._by:
            return None
        for t in self._by.get(self._index(desired), ()):
            if t.id is not None and t.id not in self._taken:
                return t
        return None

    def take(self, t: MilestoneRow) -> None:
        if t.id is not None and self._by:  # an empty index has nothing to hand out twice
            self._taken.add(t.id)


def _decide(
    pair: SyncPair,
    policy: ConflictPolicy,
    fields: tuple[str, ...],
    s: MilestoneRow,
    t: MilestoneRow | None,
    desired: MilestoneRow,
    link: AnyLink | None,
    key: str,
    again: Translation,
) -> PlannedAction:
    """The action for one source milestone. An unchanged one keeps ``again`` for its translation, not the
    row: it writes nothing, so the row is made again only if its output or the link refresh reads it."""
    if t is None and s.locked:
        # No platform lets us create an already-invoiced milestone: created open, it could be billed twice.
        why = f"{s.status.value} in the source; not created on the target, where it would be billable again"
        return planned(ActionKind.SKIP_LOCKED, key, why, s, None, desired, link=link)
    if link is None:
        if t is None:
            return planned(ActionKind.CREATE, key, "new in source", s, None, desired)
        diff = tuple(differences(desired, t, fields))
        how = "carries our sync key" if t.sync_key == key else "matches exactly"
        action = planned(ActionKind.ADOPT, key, f"target milestone {how}; linking it", s, t, desired, diff)
        if action.writes:
            what = "updating it" if diff else "marking it with our sync key"
            action = _recast(action, ActionKind.ADOPT, f"{action.reason} and {what}")
        return action
    if t is None:
        if policy is ConflictPolicy.SOURCE_WINS:
            return planned(ActionKind.CREATE, key, "deleted on target; source wins", s, None, desired, link=link)
        return planned(
            ActionKind.CONFLICT, key, "deleted on the target since the last sync", s, None, desired, link=link
        )
    diff = tuple(differences(desired, t, fields))
    if not diff:
        return planned(ActionKind.UNCHANGED, key, "in step", s, t, again, link=link)
    if t.locked:
        return planned(ActionKind.SKIP_LOCKED, key, "target is billed/invoiced and locked", s, t, desired, diff, link)
    source_changed = source_fingerprint(s) != link.source_fp
    target_changed = target_fingerprint(t, pair) != link.target_fp
    if source_changed and target_changed:
        if policy is ConflictPolicy.SOURCE_WINS:
            return planned(ActionKind.UPDATE, key, "both changed; source wins", s, t, desired, diff, link)
        if policy is ConflictPolicy.TARGET_WINS:
            return planned(ActionKind.UNCHANGED, key, "both changed; target wins", s, t, again, (), link)
        return planned(ActionKind.CONFLICT, key, "both sides changed since the last sync", s, t, desired, diff, link)
    if target_changed and policy is ConflictPolicy.TARGET_WINS:
        return planned(ActionKind.UNCHANGED, key, "target edited; target wins", s, t, again, (), link)
    if not source_changed and not target_changed:
        # Neither side moved: either the difference was accepted (target-wins) or the translation changed.
        if link.desired_fp and link.desired_fp == target_fingerprint(desired, pair):
            why = "differs from the source as accepted at the last sync (target-wins)"
            return planned(ActionKind.UNCHANGED, key, why, s, t, again, (), link)
        why = "the pair's translation changed since the last sync" if link.desired_fp else "differs from the source"
        return planned(ActionKind.UPDATE, key, why, s, t, desired, diff, link)
    reason = "changed in source" if source_changed else "target edited outside the sync; restoring the source"
    return planned(ActionKind.UPDATE, key, reason, s, t, desired, diff, link)


def _orphan(pair: SyncPair, link: AnyLink, t: MilestoneRow | None) -> PlannedAction:
    if t is None:
        return planned(ActionKind.DELETE, link.sync_key, "gone on both sides; forgetting the link", link=link)
    if not pair.delete_missing:
        return planned(
            ActionKind.UNCHANGED, link.sync_key, "deleted in source; delete_missing is off", None, t, link=link
        )
    if t.locked:
        return planned(
            ActionKind.SKIP_LOCKED, link.sync_key, "deleted in source, but the target is locked", None, t, link=link
        )
    if not can_delete(pair.target):
        return planned(
            ActionKind.CONFLICT,
            link.sync_key,
            f"deleted in source, but {pair.target.value} does not allow deleting milestones",
            None,
            t,
            link=link,
        )
    return planned(ActionKind.DELETE, link.sync_key, "deleted in source", None, t, link=link)


def _common_currency(milestones: list[MilestoneRow]) -> str | None:
    currencies = {c for m in milestones if (c := m.currency) is not None}  # no amount built
    return currencies.pop() if len(currencies) == 1 else None
