"""The planner's and apply's safety rules: no milestone twice, none deleted on partial or repeated data."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from typing import TypedDict, Unpack

import pytest

from billing_milestones import Milestone, MilestoneKey, Money, Platform, Trigger, TriggerKind, _platforms, errors
from billing_milestones._platforms import spec_for
from billing_milestones.sync import ActionKind, Link, LinkStore, SyncPair, apply_plan, plan_sync, sync_key_for
from billing_milestones.sync.pair import legacy_sync_key

from .fakes import FakeView
from .test_plan import PAIR, kinds, link_for, src, tgt


# -- repeated records -------------------------------------------------------------------------------------
@pytest.mark.parametrize("position", [0, 1, 2])
def test_a_source_listing_with_one_record_twice_is_refused_naming_it(position: int) -> None:
    source = [src(1), src(2), src(3)]
    source.insert(position, src(2))
    with pytest.raises(errors.DuplicateRecordError, match="autotask:77/2 twice") as info:
        plan_sync(PAIR, source, [])
    assert info.value.key == "autotask:77/2"


def test_a_target_listing_with_one_record_twice_is_refused() -> None:
    with pytest.raises(errors.DuplicateRecordError, match="target listing"):
        plan_sync(PAIR, [src(1)], [tgt("5"), tgt("5")])


# -- duplicates on the target --------------------------------------------------------------------------------
class _CopyFields(TypedDict, total=False):
    """What a test sets on every copy besides its id, title and sync key."""

    locked: bool


def _copies(n: int, **kw: Unpack[_CopyFields]) -> list[Milestone]:
    source_key = src(1).key
    assert source_key is not None
    key = sync_key_for(PAIR, source_key)
    return [tgt(str(500 + i), title="M1", sync_key=key, **kw) for i in range(n)]


def test_copies_carrying_one_sync_key_are_duplicates_never_unchanged() -> None:
    copies = _copies(3)
    plan = plan_sync(PAIR, [src(1)], copies)
    assert kinds(plan) == ["duplicate", "duplicate", "adopt"]
    assert {a.target.key.id for a in plan.duplicates} == {"501", "502"}  # type: ignore[union-attr]
    assert plan.findings == plan.duplicates and not any(a.writes for a in plan.duplicates)
    assert "--fix-duplicates" in plan.duplicates[0].reason


def test_the_linked_copy_is_kept_and_the_others_are_removed_when_fixing() -> None:
    copies = _copies(2)
    link = link_for(src(1), copies[1])
    plan = plan_sync(dataclasses.replace(PAIR, fix_duplicates=True), [src(1)], copies, [link])
    (dup,) = plan.duplicates
    assert dup.target is copies[0] and dup.fix and dup.writes
    assert plan.findings == []
    assert [a.kind for a in plan.actions if a.target is copies[1]] == [ActionKind.UNCHANGED]


def test_a_billed_copy_is_kept_over_an_open_one_and_a_billed_extra_is_never_removed() -> None:
    open_copy, billed = (
        _copies(1)[0],
        _copies(1, locked=True)[0].model_copy(
            update={"key": MilestoneKey(platform=Platform.KANTATA, id="777", container_id="900")}
        ),
    )
    plan = plan_sync(dataclasses.replace(PAIR, fix_duplicates=True), [src(1)], [open_copy, billed])
    (dup,) = plan.duplicates
    assert dup.target is open_copy and dup.fix  # the billed one is the one that counts
    both_billed = [m.model_copy(update={"locked": True}) for m in _copies(2)]
    (dup,) = plan_sync(dataclasses.replace(PAIR, fix_duplicates=True), [src(1)], both_billed).duplicates
    assert not dup.fix and "billed" in dup.reason


def test_duplicates_on_a_platform_without_delete_are_reported_not_fixed() -> None:
    pair = SyncPair(Platform.KANTATA, "900", Platform.AUTOTASK, "77", fix_duplicates=True)
    s = Milestone(
        key=MilestoneKey(platform=Platform.KANTATA, id="1", container_id="900"),
        title="M1",
        amount=Money("100.00", "USD"),
        due=src(1).due,
    )
    key = sync_key_for(pair, s.key)  # type: ignore[arg-type]
    copies = [
        Milestone(
            key=MilestoneKey(platform=Platform.AUTOTASK, id=str(i), container_id="77"),
            title="M1",
            amount=Money("100.00", "USD"),
            due=s.due,
        ).with_sync_key(key)
        for i in (1, 2)
    ]
    (dup,) = plan_sync(pair, [s], copies).duplicates
    assert not dup.fix and "remove it by hand" in dup.reason


def test_apply_removes_fixed_duplicates_and_reports_the_rest() -> None:
    view = FakeView(Platform.KANTATA)
    copies = [view.add("900", m) for m in _copies(3)]
    store = LinkStore(":memory:")
    plan = plan_sync(dataclasses.replace(PAIR, fix_duplicates=True), [src(1)], copies, store)
    result = apply_plan(plan, view, store)
    assert result.ok and len(view.data["900"]) == 1
    assert plan_sync(PAIR, [src(1)], list(view.list("900")), store).is_noop
    unfixed = plan_sync(PAIR, [src(1)], [*view.list("900"), view.add("900", _copies(1)[0])], store)
    assert not apply_plan(unfixed, view, store).ok  # a duplicate left in place is a finding


# -- mass-delete guard -----------------------------------------------------------------------------------------
def _linked(n: int) -> tuple[list[Milestone], list[Milestone], list[Link]]:
    sources = [src(i) for i in range(1, n + 1)]
    targets = [tgt(str(100 + i), title=f"M{i}", sync_key=sync_key_for(PAIR, s.key)) for i, s in enumerate(sources, 1)]  # type: ignore[arg-type]
    return sources, targets, [link_for(s, t) for s, t in zip(sources, targets, strict=True)]


def test_deleting_more_than_half_of_the_links_is_refused_with_the_reason() -> None:
    sources, targets, links = _linked(6)
    plan = plan_sync(PAIR, sources[:2], targets, links)  # 4 of 6 gone: a filter, not a mass deletion
    assert plan.counts()["delete"] == 0 and plan.counts()["conflict"] == 4
    assert "4 of the 6 linked" in plan.notes[0] and "--allow-mass-delete" in plan.notes[0]
    assert not any(a.writes for a in plan.conflicts)


def test_deleting_half_or_one_is_an_edit_not_a_mass_deletion() -> None:
    sources, targets, links = _linked(6)
    assert plan_sync(PAIR, sources[:3], targets, links).counts()["delete"] == 3  # exactly 50 %
    sources, targets, links = _linked(1)
    assert plan_sync(PAIR, [src(9)], targets, links).counts()["delete"] == 1


def test_the_guard_is_configurable_and_can_be_allowed() -> None:
    sources, targets, links = _linked(6)
    allowed = dataclasses.replace(PAIR, allow_mass_delete=True)
    assert plan_sync(allowed, sources[:2], targets, links).counts()["delete"] == 4
    strict = dataclasses.replace(PAIR, max_delete_share=0.25)
    assert plan_sync(strict, sources[:4], targets, links).counts()["delete"] == 0


@pytest.mark.parametrize("share", [-0.1, 1.01, True, "0.5"])
def test_a_bad_share_is_refused_by_name(share: object) -> None:
    with pytest.raises(errors.ValidationError) as info:
        SyncPair(Platform.AUTOTASK, "1", Platform.KANTATA, "2", max_delete_share=share)  # type: ignore[arg-type]
    assert info.value.field == "max_delete_share"


# -- one writer per pair -----------------------------------------------------------------------------------
def test_a_plan_made_before_another_run_applied_is_refused() -> None:
    view = FakeView(Platform.KANTATA)
    store = LinkStore(":memory:")
    first = plan_sync(PAIR, [src(1), src(2)], [], store)
    second = plan_sync(PAIR, [src(1), src(2)], [], store)  # planned at the same time
    apply_plan(first, view, store)
    with pytest.raises(errors.StalePlanError, match="Plan again"):
        apply_plan(second, view, store)
    assert len(view.data["900"]) == 2  # not 4


def test_apply_while_another_run_holds_the_pair_writes_nothing() -> None:
    view = FakeView(Platform.KANTATA)
    store = LinkStore(":memory:")
    plan = plan_sync(PAIR, [src(1)], [], store)
    with store.lease(PAIR.id, owner="other-run"), pytest.raises(errors.PairBusyError, match="other-run"):
        apply_plan(plan, view, store)
    assert view.calls == [] and store.pending() == []


def test_a_lease_lost_mid_apply_stops_before_the_next_write(monkeypatch: pytest.MonkeyPatch) -> None:
    one_at_a_time = dataclasses.replace(spec_for(Platform.AUTOTASK), max_in_flight=1)  # an exact count
    monkeypatch.setitem(_platforms._specs, Platform.AUTOTASK, one_at_a_time)
    view = FakeView(Platform.AUTOTASK)
    store = LinkStore(":memory:")
    pair = dataclasses.replace(PAIR, target=Platform.AUTOTASK)  # one create per request
    plan = plan_sync(pair, [src(i) for i in range(1, 6)], [], store)

    def steal(_result: object) -> None:
        if store.lease_holder(pair.identity) is not None and store.lease_holder(pair.identity).owner != "thief":  # type: ignore[union-attr]
            store._raw("UPDATE leases SET expires_at=0")
            store.try_lease(pair.identity, "thief", ttl=60)

    with pytest.raises(errors.LeaseLostError):
        apply_plan(plan, {Platform.AUTOTASK: view}, store, progress=steal)
    assert len(view.data["900"]) == 1  # stopped at once: the rest is for the run that holds the lease now


# -- identity -----------------------------------------------------------------------------------------------
def _crm(estimation: str, stage: str) -> MilestoneKey:
    return MilestoneKey(platform=Platform.CRMCOM, id=f"{estimation}:{stage}", container_id=estimation)


def test_a_crmcom_sync_key_survives_a_new_estimation_id_when_the_draft_is_named() -> None:
    first = SyncPair(Platform.CRMCOM, "est-1", Platform.KANTATA, "900", source_name="big-order")
    again = dataclasses.replace(first, source_container="est-2")
    assert sync_key_for(first, _crm("est-1", "stage-a")) == sync_key_for(again, _crm("est-2", "stage-a"))
    assert sync_key_for(first, _crm("est-1", "stage-a")) != sync_key_for(first, _crm("est-1", "stage-b"))


def test_sync_keys_of_id_stable_pairs_are_unchanged_by_names() -> None:
    digest = hashlib.sha256(f"{PAIR.id}|{src(1).key}".encode()).hexdigest()[:16]
    assert sync_key_for(PAIR, src(1).key) == f"bm{digest}"  # type: ignore[arg-type]
    named = dataclasses.replace(PAIR, source_name="77", target_name="900")
    assert sync_key_for(named, src(1).key) == sync_key_for(PAIR, src(1).key)  # type: ignore[arg-type]


def test_a_target_carrying_the_key_an_older_version_wrote_is_adopted_and_re_keyed() -> None:
    pair = SyncPair(Platform.CRMCOM, "est-1", Platform.KANTATA, "900", source_name="big-order")
    key = _crm("est-1", "stage-a")
    s = Milestone(
        key=key,
        title="Deposit",
        amount=Money("100.00", "USD"),
        trigger=Trigger(kind=TriggerKind.ON_STAGE, ref="stage-a"),
    )
    pair = dataclasses.replace(pair, triggers=pair.triggers.__class__(stage_to_story={"stage-a": "41"}))
    old = Milestone(
        key=MilestoneKey(platform=Platform.KANTATA, id="5", container_id="900"),
        title="Deposit",
        amount=Money("100.00", "USD"),
        trigger=Trigger(kind=TriggerKind.ON_COMPLETION, ref="41"),
    ).with_sync_key(legacy_sync_key(pair, key))
    (action,) = plan_sync(pair, [s], [old]).actions
    assert action.kind is ActionKind.ADOPT and action.writes and action.target is old
    assert action.desired is not None and action.desired.sync_key == sync_key_for(pair, key)


def test_a_create_whose_reply_cannot_be_read_is_recovered_by_sync_key_not_counted_as_unwritten() -> None:
    class Unreadable(FakeView):
        def create(self, container_id: str, milestones: Sequence[Milestone]) -> list[Milestone]:
            super().create(container_id, milestones)  # stored on the platform...
            raise errors.APIResponseValidationError(  # ...but the 200 reply was malformed
                "bad reply", platform="kantata", method="POST", path="/billing_milestones"
            )

    view = Unreadable(Platform.KANTATA)
    store = LinkStore(":memory:")
    result = apply_plan(plan_sync(PAIR, [src(1), src(2)], [], store), view, store)
    assert result.ok and result.writes == 2 and len(store.links(PAIR.id)) == 2
    assert plan_sync(PAIR, [src(1), src(2)], list(view.list("900")), store).is_noop
