"""What a plan keeps for each pair: an unchanged one does not keep its translation (made again when read)."""

from __future__ import annotations

import pickle

from billing_milestones import Milestone, MilestoneKey, Money, Platform
from billing_milestones.sync import ActionKind, Link, SyncPair, plan_sync, sync_key_for, translate
from billing_milestones.sync.actions import Translation, desired_row
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
    assert type(vars(action)["_desired"]) is Translation
    want = translate(source, PAIR, sync_key=link.sync_key)
    assert action.desired == want and desired_row(action) is not None
    again = pickle.loads(pickle.dumps(plan))
    assert again.actions[0].desired == want and type(vars(again.actions[0])["_desired"]) is Translation


def test_a_writing_action_keeps_its_translation() -> None:
    source, target, link = _pair_in_step()
    edited = source.model_copy(update={"title": "Kick-off, revised"})
    plan = plan_sync(PAIR, [edited], [target], [link])
    (action,) = plan.actions
    assert action.kind is ActionKind.UPDATE
    kept = vars(action)["_desired"]
    assert type(kept) is not Translation and desired_row(action) is kept
