"""Seeded planning scenarios: a pair, both listings and the links, drawn from one integer.

Each scenario mixes what a sync meets (new, linked and equal, changed on either or both sides, adopted by sync
key or by exact match, extra copies with one sync key, billed milestones, deleted sources, text too long,
a description Kantata cannot hold, another currency) over Autotask, Kantata and crm.com, under every policy
and pair option. Built from the public API only, so the same seed gives the same scenario on any version of
the planner: the plans of two versions (or of two input paths) can be compared byte for byte.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import random
from collections.abc import Sequence
from typing import Any

from billing_milestones import Milestone, MilestoneKey, MilestoneStatus, Money, Platform, Trigger
from billing_milestones.sync import ConflictPolicy, Link, SyncPair, SyncPlan, TriggerMap, sync_key_for, translate
from billing_milestones.sync.plan import source_fingerprint, target_fingerprint

SEEDS = range(300)
_DIRECTIONS = [
    (Platform.AUTOTASK, Platform.KANTATA),
    (Platform.KANTATA, Platform.AUTOTASK),
    (Platform.KANTATA, Platform.KANTATA),
    (Platform.CRMCOM, Platform.KANTATA),
    (Platform.KANTATA, Platform.CRMCOM),
]
_STATES = [
    "new",
    "linked",
    "linked",
    "source-changed",
    "target-changed",
    "both-changed",
    "target-gone",
    "carries-key",
    "exact-match",
    "near-match",
    "copies",
    "locked-target",
]
_DAY = dt.date(2027, 1, 1)


@dataclasses.dataclass(frozen=True)
class Scenario:
    pair: SyncPair
    source: list[Milestone]
    target: list[Milestone]
    links: list[Link]
    policy: ConflictPolicy


def scenario(seed: int) -> Scenario:
    rng = random.Random(seed)
    source_platform, target_platform = rng.choice(_DIRECTIONS)
    stages = [f"st-{i}" for i in range(8)]
    stories = [str(7000 + i) for i in range(8)]
    mapped = dict(zip(stages[:6], stories[:6], strict=True))  # two of each side left unmapped
    pair = SyncPair(
        source_platform,
        "est-1" if source_platform is Platform.CRMCOM else "11",
        target_platform,
        "est-2" if target_platform is Platform.CRMCOM else "22",
        triggers=TriggerMap(stage_to_story=mapped, fallback_due=_DAY if rng.random() < 0.3 else None),
        delete_missing=rng.random() < 0.7,
        allow_empty_source=rng.random() < 0.2,
        allow_drop=rng.random() < 0.5,
        truncate=rng.random() < 0.5,
        fix_duplicates=rng.random() < 0.5,
        max_delete_share=rng.choice([0.0, 0.5, 1.0]),
        allow_mass_delete=rng.random() < 0.2,
    )
    ids = iter(range(100, 10_000))
    source: list[Milestone] = []
    target: list[Milestone] = []
    links: list[Link] = []
    free_stages = list(stages)
    rng.shuffle(free_stages)
    for i in range(rng.randrange(0, 12)):
        s = _milestone(rng, source_platform, pair.source_container, next(ids), i, stages, stories, free_stages)
        source.append(s)
        state = rng.choice(_STATES)
        if state == "new":
            continue
        try:
            desired = translate(s, pair)
        except Exception:
            desired = None
        t = _as_target(rng, desired, s, target_platform, pair.target_container, next(ids), stages)
        assert s.key is not None and t.key is not None
        key = sync_key_for(pair, s.key)
        if state not in ("exact-match", "near-match") and target_platform is not Platform.CRMCOM:
            t = t.with_sync_key(key)
        if state == "near-match":
            t = t.model_copy(update={"title": t.title + " (old)"})
        link = Link(pair.id, key, str(s.key), str(t.key), source_fingerprint(s), target_fingerprint(t, pair))
        if state in ("linked", "source-changed", "target-changed", "both-changed", "target-gone", "locked-target"):
            links.append(link)
        if state in ("source-changed", "both-changed"):
            source[-1] = s.model_copy(update={"amount": _money(rng, "USD")})
        if state in ("target-changed", "both-changed"):
            t = t.model_copy(update={"title": f"edited {i}"})
        if state == "locked-target":
            t = t.model_copy(update={"status": MilestoneStatus.BILLED, "locked": True, "title": f"billed {i}"})
        if state != "target-gone":
            target.append(t)
        if state == "copies":
            assert t.key is not None
            extra = t.model_copy(update={"key": t.key.model_copy(update={"id": str(next(ids))})})
            target.append(extra.model_copy(update={"locked": rng.random() < 0.3}) if rng.random() < 0.5 else extra)
    for _ in range(rng.randrange(0, 4)):  # links whose source is gone, some of whose targets are too
        sk = MilestoneKey(platform=source_platform, id=_native(source_platform, next(ids)), container_id="11")
        t = _as_target(rng, None, None, target_platform, pair.target_container, next(ids), stages)
        assert t.key is not None
        links.append(Link(pair.id, sync_key_for(pair, sk), str(sk), str(t.key), "old", "old"))
        if rng.random() < 0.7:
            target.append(t)
    for _ in range(rng.randrange(0, 3)):  # target milestones nothing points at
        target.append(_as_target(rng, None, None, target_platform, pair.target_container, next(ids), stages))
    if target_platform is Platform.CRMCOM:
        target = _one_per_stage(target)
    rng.shuffle(source)
    rng.shuffle(target)
    return Scenario(pair, source, target, links, rng.choice(list(ConflictPolicy)))


def plan_text(plan: SyncPlan) -> str:
    """The plan's JSON without the moment it was made: equal texts are equal plans."""
    data = plan.to_json()
    data.pop("created_at")
    return json.dumps(data, indent=2)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _native(platform: Platform, number: int) -> str:
    return f"est-1:st-x{number}" if platform is Platform.CRMCOM else str(number)


def _money(rng: random.Random, currency: str) -> Money:
    return Money(f"{rng.randrange(1, 5000)}.{rng.choice(['00', '50', '25'])}", currency)


def _milestone(
    rng: random.Random,
    platform: Platform,
    container: str,
    number: int,
    i: int,
    stages: Sequence[str],
    stories: Sequence[str],
    free_stages: list[str],
) -> Milestone:
    values: dict[str, Any] = {"title": rng.choice([f"Milestone {i}", f"  Phase {i} ", "X" * rng.choice([40, 60])])}
    currency = "EUR" if rng.random() < 0.08 else "USD"
    values["amount"] = _money(rng, currency)
    if platform is Platform.CRMCOM:
        stage = free_stages.pop() if free_stages else f"st-extra{number}"
        ident = f"{container}:{stage}"
        values["trigger"] = Trigger.on_stage(stage)
        if rng.random() < 0.2:
            values["amount"], values["percentage"] = None, rng.choice(["25", "50"])
    else:
        ident = str(number)
        values["due"] = _DAY + dt.timedelta(days=rng.randrange(0, 60))
        if platform is Platform.KANTATA and rng.random() < 0.4:
            values["trigger"] = Trigger.on_completion(rng.choice(stories))
        if platform is Platform.AUTOTASK and rng.random() < 0.3:
            values["description"] = rng.choice(["note", "d" * 300])
    if rng.random() < 0.1:
        values.update(status=MilestoneStatus.BILLED, locked=True)
    return Milestone(key=MilestoneKey(platform=platform, id=ident, container_id=container), **values)


def _as_target(
    rng: random.Random,
    desired: Milestone | None,
    source: Milestone | None,
    platform: Platform,
    container: str,
    number: int,
    stages: Sequence[str],
) -> Milestone:
    """What the target holds for ``desired`` (a fresh milestone without one), keyed on ``platform``."""
    if desired is None:
        title = source.title.strip()[:50] if source is not None else f"Other {number}"
        amount = source.amount if source is not None and source.amount is not None else _money(rng, "USD")
        base = Milestone(title=title or "T", amount=amount, due=_DAY)
        if platform is Platform.CRMCOM:
            base = base.model_copy(update={"trigger": Trigger.on_stage(rng.choice(stages)), "due": None})
        desired = base
    ident = f"{container}:{desired.trigger.ref}" if platform is Platform.CRMCOM else str(number)
    key = MilestoneKey(platform=platform, id=ident, container_id=container)
    return desired.model_copy(update={"key": key, "changes": (), "external_refs": ()})


def _one_per_stage(target: list[Milestone]) -> list[Milestone]:
    """crm.com holds one milestone per stage: keep the first listed of each."""
    seen: set[str] = set()
    kept = []
    for t in target:
        assert t.key is not None
        if t.key.id not in seen:
            seen.add(t.key.id)
            kept.append(t)
    return kept
