"""Planner benchmarks: plan_sync against a minimal plain-Python planner on the same data.

Two rows of issue 13: 100,000 linked pairs that are all unchanged (CPU of one plan), and a first sync into a
non-empty container (no links yet) whose milestones are listed in the opposite order, so every source
milestone is adopted by an exact match; the second is measured at several sizes to show it grows linearly.

The linked row times plan_sync on the rows ``load_sides`` streams each listing into (what a sync plans from;
the projection happens while the pages arrive, instead of keeping the milestones), and also prints plan_sync
over the lists of milestones themselves, which projects them first. The minimal planner reads the milestones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import partial

from billing_milestones import Milestone, MilestoneKey, Money, Platform
from billing_milestones.sync import Link, SyncPair, plan_sync
from billing_milestones.sync._rows import MilestoneRow, Shared, row_of
from billing_milestones.sync.pair import sync_key_for
from billing_milestones.sync.plan import source_fingerprint, target_fingerprint
from billing_milestones.sync.translate import COMPARED_FIELDS, translate

PAIR = SyncPair(Platform.AUTOTASK, "77", Platform.KANTATA, "900")
DUE = dt.date(2027, 1, 1)


def cpu(fn: Callable[[], object], repeat: int = 3) -> float:
    """The smallest process CPU time of ``repeat`` calls (CPU, not wall: the machine is shared)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def milestones(n: int, platform: Platform, container: str, *, first_id: int = 1) -> list[Milestone]:
    return [
        Milestone(
            key=MilestoneKey(platform=platform, id=str(first_id + i), container_id=container),
            title=f"Milestone {i}",
            amount=Money(f"{i}.25", "USD"),
            due=DUE + dt.timedelta(days=i % 300),
        )
        for i in range(n)
    ]


def linked_data(n: int) -> tuple[list[Milestone], list[Milestone], list[Link]]:
    """n source milestones, their n targets carrying our sync keys, and the n links between them."""
    source = milestones(n, Platform.AUTOTASK, "77")
    target, links = [], []
    for s, t in zip(source, milestones(n, Platform.KANTATA, "900", first_id=500_000), strict=True):
        assert s.key is not None
        key = sync_key_for(PAIR, s.key)
        t = translate(s, PAIR).with_sync_key(key).model_copy(update={"key": t.key})
        target.append(t)
        links.append(Link(PAIR.id, key, str(s.key), str(t.key), source_fingerprint(s), target_fingerprint(t, PAIR)))
    return source, target, links


def _normal(value: object) -> object:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Money):
        return (value.amount.normalize(), value.currency)
    if isinstance(value, Decimal):
        return value.normalize()
    return value


def minimal_planner(
    source: Sequence[Milestone], target: Sequence[Milestone], links: Sequence[Link]
) -> list[tuple[str, str]]:
    """What any planner must do at least: key each source milestone, find its target (by link, else sync key,
    else an index of the compared fields) and compare the fields the target stores. No reasons, no models."""
    fields = COMPARED_FIELDS[PAIR.target]
    by_source = {ln.source_key: ln for ln in links}
    by_id = {t.key.id: t for t in target if t.key is not None}
    by_key = {t.sync_key: t for t in target if t.sync_key}
    by_fields: dict[tuple[object, ...], list[Milestone]] = {}
    for unkeyed in target:
        if not unkeyed.sync_key:
            by_fields.setdefault(tuple(_normal(getattr(unkeyed, f)) for f in fields), []).append(unkeyed)
    out = []
    for s in source:
        text = str(s.key)
        key = f"bm{hashlib.sha256(f'{PAIR.id}|{text}'.encode()).hexdigest()[:16]}"
        link = by_source.get(text)
        t = by_id.get(link.target_key.rsplit("/", 1)[-1]) if link else by_key.get(key)
        want = tuple(_normal(getattr(s, f)) for f in fields)
        if t is None:
            group = by_fields.get(want)
            t = group.pop() if group else None
        if t is None:
            out.append(("create", key))
        else:
            have = tuple(_normal(getattr(t, f)) for f in fields)
            out.append(("unchanged" if have == want else "update", key))
    return out


def streamed(milestones: Sequence[Milestone]) -> list[MilestoneRow]:
    """The rows load_sides would stream this listing into (each milestone projected, then let go)."""
    shared = Shared()
    return [row_of(m, keep=False, shared=shared) for m in milestones]


def bench_linked(n: int) -> str:
    source, target, links = linked_data(n)
    source_rows, target_rows = streamed(source), streamed(target)
    for plan in (plan_sync(PAIR, source, target, links), plan_sync(PAIR, source_rows, target_rows, links)):
        assert plan.counts()["unchanged"] == n, plan.counts()
    ours = cpu(lambda: plan_sync(PAIR, source_rows, target_rows, links))
    models = cpu(lambda: plan_sync(PAIR, source, target, links))
    base = cpu(lambda: minimal_planner(source, target, links))
    return (
        f"plan_sync {n:,} linked unchanged pairs: ours {ours:.3f}s CPU on load_sides' rows "
        f"({models:.3f}s on lists of milestones, {models / base:.2f}x), minimal planner {base:.3f}s "
        f"-> ratio {ours / base:.2f}"
    )


def bench_first_sync(sizes: Sequence[int]) -> list[str]:
    """No links, the target listing reversed and without sync keys: every pair is an exact-match adoption."""
    rows = []
    for n in sizes:
        source = milestones(n, Platform.AUTOTASK, "77")
        target = [
            Milestone(
                key=MilestoneKey(platform=Platform.KANTATA, id=str(900_000 + i), container_id="900"),
                title=s.title,
                amount=s.amount,
                due=s.due,
            )
            for i, s in enumerate(reversed(source))
        ]
        plan = plan_sync(PAIR, source, target)
        assert plan.counts()["adopt"] == n, plan.counts()
        ours = cpu(partial(plan_sync, PAIR, source, target), repeat=1)
        base = cpu(partial(minimal_planner, source, target, []), repeat=1)
        rows.append(
            f"first sync into a non-empty container x{n:,} (reversed order): ours {ours:.3f}s CPU "
            f"({ours / n * 1e6:.0f} us a milestone), minimal planner {base:.3f}s -> ratio {ours / base:.2f}"
        )
    return rows
