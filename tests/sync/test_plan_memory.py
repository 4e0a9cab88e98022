"""What a plan keeps for each pair: an unchanged one does not keep its translation (made again when read)."""

from __future__ import annotations

import dataclasses
import pickle
import tracemalloc

from billing_milestones import Milestone, MilestoneKey, Money, Platform
from billing_milestones.sync import ActionKind, Link, LinkStore, SyncPair, plan_sync, sync_key_for, translate
from billing_milestones.sync.actions import Translation, desired_row, source_row, target_row
from billing_milestones.sync.plan import source_fingerprint, target_fingerprint

PAIR = SyncPair(Platform.AUTOTASK, "77", Platform.KANTATA, "900")


def _pair_in_step(title: str = "Kick-off") -> tuple[Milestone, Milestone, Link]:
    source = Milestone(
        key=MilestoneKey(platform=Platform.AUTOTASK, id="1", container_id="77"),
        title=title,
        amount=Money("10.00", "USD"),
        due="2027-01-31",
    )
    key = sync_key_for(PAIR, source.key)  # type: ignore[arg-type]
    target = translate(source, PAIR, sync_key=key).model_copy(
        update={"key": MilestoneKey(platform=Platform.KANTATA, id="5", container_id="900")}
    )
    fingerprints = source_fingerprint(source), target_fingerprint(target, PAIR)
    return source, target, Link(PAIR.id, key, str(source.key), str(target.key), *fingerprints)


def test_an_unchanged_action_keeps_no_translation_and_reads_it_the_same() -> None:
    source, target, link = _pair_in_step()
    plan = plan_sync(PAIR, [source], [target], [link])
    (action,) = plan.actions
    assert action.kind is ActionKind.UNCHANGED
    assert type(action.__getstate__()["_desired"]) is Translation
    want = translate(source, PAIR, sync_key=link.sync_key)
    assert action.desired == want and desired_row(action) is not None
    again = pickle.loads(pickle.dumps(plan))
    assert again.actions[0].desired == want and type(again.actions[0].__getstate__()["_desired"]) is Translation


def test_a_writing_action_keeps_its_translation() -> None:
    source, target, link = _pair_in_step()
    edited = source.model_copy(update={"title": "Kick-off, revised"})
    plan = plan_sync(PAIR, [edited], [target], [link])
    (action,) = plan.actions
    assert action.kind is ActionKind.UPDATE
    kept = action.__getstate__()["_desired"]
    assert type(kept) is not Translation and desired_row(action) is kept


def test_an_action_keeps_no_instance_dict() -> None:
    # A plan holds one action a pair: an instance dict's values cost ~50 bytes an action more than slots.
    source, target, link = _pair_in_step()
    (action,) = plan_sync(PAIR, [source], [target], [link]).actions
    assert not hasattr(action, "__dict__")
    again = pickle.loads(pickle.dumps(action))
    assert again == action and again.diff == () and again.fix is False and again.link == link
    assert dataclasses.replace(action, fix=True).fix is True


def test_a_link_keeps_no_instance_dict() -> None:
    # A re-sync holds one link a linked pair: a per-instance __dict__ cost ~100 bytes each.
    _, _, link = _pair_in_step()
    assert not hasattr(link, "__dict__")
    assert pickle.loads(pickle.dumps(link)) == link and dataclasses.replace(link, target_fp="x").target_fp == "x"


def test_a_pairs_links_share_one_pair_id_and_read_back_in_order() -> None:
    _, _, link = _pair_in_step()
    other = SyncPair(Platform.KANTATA, "900", Platform.AUTOTASK, "77")
    with LinkStore(":memory:") as store:
        # each its own copy of the pair id text, as a caller builds them
        written = [dataclasses.replace(link, pair_id="".join(PAIR.id), sync_key=f"k{i}") for i in range(3)]
        for i, ln in enumerate(written):
            store.put(dataclasses.replace(ln, source_key=f"autotask:77/{i}", target_key=f"kantata:900/{i}"))
        store.put(dataclasses.replace(link, pair_id=other.id))
        pair_id = "".join(PAIR.id)
        read = store.links(pair_id)
        assert [ln.sync_key for ln in read] == ["k0", "k1", "k2"]
        assert all(ln.pair_id is pair_id for ln in read)
        assert [dataclasses.replace(ln, updated_at="") for ln in read] == [
            dataclasses.replace(ln, source_key=f"autotask:77/{i}", target_key=f"kantata:900/{i}")
            for i, ln in enumerate(written)
        ]
        assert [ln.pair_id for ln in store.links(other.id)] == [other.id]


def test_reading_an_actions_rows_keeps_nothing() -> None:
    # The applier and the link refresh read every action's rows: reading one from the instance's __dict__
    # made that dict (64 bytes an action, held as long as the plan).
    pairs = []
    for i in range(400):
        s = Milestone(
            key=MilestoneKey(platform=Platform.AUTOTASK, id=str(i), container_id="77"),
            title=f"M{i}",
            amount=Money("10.00", "USD"),
            due="2027-01-31",
        )
        key = sync_key_for(PAIR, s.key)  # type: ignore[arg-type]
        t = translate(s, PAIR, sync_key=key).model_copy(
            update={"key": MilestoneKey(platform=Platform.KANTATA, id=f"9{i}", container_id="900")}
        )
        fingerprints = source_fingerprint(s), target_fingerprint(t, PAIR)
        pairs.append((s, t, Link(PAIR.id, key, str(s.key), str(t.key), *fingerprints)))
    plan = plan_sync(PAIR, [p[0] for p in pairs], [p[1] for p in pairs], [p[2] for p in pairs])
    assert len(plan.actions) == 400
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for a in plan.actions:
            source_row(a), target_row(a), desired_row(a)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 400 * 16, grown  # 400 * 64 bytes held before
