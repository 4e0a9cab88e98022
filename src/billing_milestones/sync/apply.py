"""Carry out a plan: the only part of the sync engine that writes.

Every write is bracketed by an intent row in the link store. Creates carry the sync key to the target, so
if we crash (or a response is lost) after the platform stored a milestone but before we linked it, the next
plan finds the key on the target and adopts the milestone instead of creating it again.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar

from .. import errors
from .._http._before_send import before_send
from .._order import stream_of
from .._platform_spec import WriteMode
from .._platforms import spec_for
from .._view import MilestoneView, SetWritingView
from ..model import SYNC_SERVICE_NAME, Milestone, MilestoneKey
from ._load import load_sides, resolve_view
from ._results import ActionResult, ApplyResult
from ._rows import MilestoneRow
from ._settle import DEFAULT_WRITE_SETTLE, settle_pending
from ._thread_cpu import on_behalf
from ._write_check import WriteCheck, stamp_time
from .actions import desired_row, holds_link, source_row, target_row
from .lease import Lease
from .links import Link, LinkStore
from .pair import SyncPair
from .plan import ActionKind, PlannedAction, SyncPlan, source_fingerprint, target_fingerprint
from .runs import recorded_run
from .store._leased import begin_leased, renew_and_read

__all__ = ["ActionResult", "ApplyResult", "apply_plan", "load_sides", "resolve_view"]

T = TypeVar("T")


#: Failures after which a create may have been stored: no response, a 5xx, or a 2xx reply we could not read
#: (the platform acted; only its answer is unusable). Recovery looks the sync keys up on the target.
_AMBIGUOUS: Final = (errors.APIConnectionError, errors.InternalServerError, errors.APIResponseValidationError)


Progress = Callable[[ActionResult], None]


def apply_plan(
    plan: SyncPlan,
    clients: Any,
    store: LinkStore,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
    lease: Lease | None = None,
    lease_wait: float = 0.0,
    write_settle: float = DEFAULT_WRITE_SETTLE,
) -> ApplyResult:
    """Execute every writing action of ``plan`` against the target and record links as it goes.

    ``clients`` is the target's view, a client, or a mapping of platform -> client. Conflicts are left alone
    (they are in the result for the caller to report). ``progress`` is called after each action.

    One writer per pair: the writes happen under the pair's lease, ``lease`` when the caller took it before
    planning (as the CLI does), else one taken here (waiting up to ``lease_wait`` seconds; PairBusyError
    after that). A plan made from the store before another run applied is refused with StalePlanError, and
    a lease lost mid-run stops the next write with LeaseLostError; plan again and rerun. Every run that is
    not a dry run leaves a row in the store's run history (:mod:`.runs`), whether it ended well or raised.

    A stopped run's pending writes younger than ``write_settle`` seconds may still land on the target after
    ``plan``'s listing was read: the plan is refused then (PendingWritesError, nothing written). Callers who
    list and plan themselves should take the pair's lease, call :func:`~billing_milestones.sync.settle_pending`
    under it, then list, plan and pass the lease here (as ``milestones sync`` and the workers do).
    """
    result = ApplyResult(plan, dry_run=dry_run)
    pair = plan.pair

    def record(r: ActionResult) -> None:
        result.results.append(r)
        if progress is not None:
            progress(r)

    if dry_run:
        for action in plan.actions:
            record(ActionResult(action, ok=True))
        return result

    view = resolve_view(clients, pair.target)
    with recorded_run(store, pair.identity, lease) as run, contextlib.ExitStack() as stack:
        if lease is None:
            lease = stack.enter_context(store.lease(pair.identity, wait=lease_wait))
        run.worker = lease.owner
        # The lease renewed, the version and the pending intents read: one round trip on PostgreSQL.
        held = lease
        state = _under_lease(held, lambda: renew_and_read(store, pair.id, held.pair_id, held.owner, held.ttl))
        if plan.links_version is not None and state.version != plan.links_version:
            raise errors.StalePlanError(
                f"pair {pair.id}: the links changed since this plan was made (another run applied in between); "
                "nothing was written. Plan again",
                pair_id=pair.id,
            )
        run.begin(lease.owner)  # the run's history row, opened under the lease just renewed (sync/runs.py)
        settle_pending(state, pair.id, window=write_settle, max_wait=0.0)  # a wait now would be too late
        if state.intents:  # none read under the lease: none to close (the store is not asked again)
            store.resolve_pending(pair.id)
        runner = _Applier(pair, view, store, record, lease)
        run.applied = result  # a run stopped mid-apply still counts the writes it did (sync/runs.py)
        if spec_for(pair.target).write_mode is WriteMode.WHOLE_SET:
            runner.replace_set(plan.actions)
        else:
            runner.run(plan.actions)
        run.finish(result)
    return result


class _Applier:
    def __init__(self, pair: SyncPair, view: MilestoneView, store: LinkStore, record: Progress, lease: Lease) -> None:
        self.pair, self.view, self.store, self.record, self.lease = pair, view, store, record, lease

    def _begin(self, sync_key: str, action: str) -> WriteCheck:
        """Every write starts here: still ours to write (the lease), and an intent recorded first."""
        return self._begin_many([(sync_key, action)])

    def _begin_many(self, writes: list[tuple[str, str]]) -> WriteCheck:
        """The intents of writes about to be sent, recorded once the lease is renewed (on PostgreSQL both in
        one statement: the intents only if the renewal found the lease ours), as the check the write call is
        made under (``with before_send(check):``, see ``_write_check``): their ids in order, and their stamp."""
        lease, store, pair_id = self.lease, self.store, self.pair.id
        stamped = stamp_time()
        ids = _under_lease(lease, lambda: begin_leased(store, pair_id, writes, lease.pair_id, lease.owner, lease.ttl))
        return WriteCheck(lease, store, ids, stamped)

    # -- per-milestone platforms (Kantata, Autotask) ------------------------------------------------
    def run(self, actions: Sequence[PlannedAction]) -> None:
        by_kind: dict[ActionKind, list[PlannedAction]] = {}
        for action in actions:
            by_kind.setdefault(action.kind, []).append(action)
        for action in by_kind.get(ActionKind.UNCHANGED, []):
            self._refresh_link(action)
        for action in by_kind.get(ActionKind.CONFLICT, []) + by_kind.get(ActionKind.SKIP_LOCKED, []):
            self.record(ActionResult(action, ok=True))
        self._bounded(self._adopt_or_update, by_kind.get(ActionKind.ADOPT, []) + by_kind.get(ActionKind.UPDATE, []))
        self._create_all(by_kind.get(ActionKind.CREATE, []))
        self._bounded(self._delete, by_kind.get(ActionKind.DELETE, []))
        self._bounded(self._remove_duplicate, by_kind.get(ActionKind.DUPLICATE, []))

    def _bounded(self, work: Callable[[PlannedAction], ActionResult], actions: list[PlannedAction]) -> None:
        limit = spec_for(self.pair.target).max_in_flight
        if limit < 2 or len(actions) < 2:
            for action in actions:
                self.record(work(action))
            return
        with concurrent.futures.ThreadPoolExecutor(max_workers=limit, thread_name_prefix="bm-apply") as pool:
            helper = on_behalf(work)  # the pool's CPU counted as this thread's (see ``_thread_cpu``)
            futures = [pool.submit(helper, action) for action in actions]
            taken = 0
            try:
                for future in futures:
                    outcome = future.result()
                    taken += 1
                    self.record(outcome)
            except BaseException:
                # Stop promptly (Ctrl-C, a failing progress callback): writes not yet started never start;
                # the ones in flight finish and are linked, and the next run picks up the rest. Those are
                # reported too, so a caller counting writes (the CLI's "interrupted: N writes done") is exact.
                for future in futures:
                    future.cancel()
                for future in futures[taken:]:
                    if not future.cancelled():
                        with contextlib.suppress(Exception):
                            self.record(future.result())
                raise

    def _adopt_or_update(self, action: PlannedAction) -> ActionResult:
        assert source_row(action) is not None
        target, desired = action.target, action.desired  # each built once (a streamed row has no model)
        assert target is not None
        assert desired is not None
        if not action.writes:
            # A locked adoption with differences is linked but not accepted: once unlocked it is updated.
            self._link(action, target, accepted=not action.diff)
            return ActionResult(action, ok=True, result=target)
        check = self._begin(action.sync_key, action.kind.value)
        intent = check.intents[0]
        try:
            with before_send(check):
                updated = self.view.update(_as_update(desired, target))
        except errors.LeaseLostError:
            raise  # not sent: the run stops, the intent left pending for the next run to settle
        except errors.BillingMilestonesError as exc:
            self.store.finish(intent, error=str(exc))
            return ActionResult(action, ok=False, error=str(exc), cause=exc)
        self._link(action, updated, intent)
        return ActionResult(action, ok=True, result=updated, wrote=True)

    def _create_all(self, actions: list[PlannedAction]) -> None:
        size = spec_for(self.pair.target).batch_size
        if size <= 1:
            self._bounded(lambda a: self._create_batch([a])[0], actions)
            return
        for start in range(0, len(actions), size):
            for outcome in self._create_batch(actions[start : start + size]):
                self.record(outcome)

    def _create_batch(self, actions: list[PlannedAction]) -> list[ActionResult]:
        # Every intent is committed before the batch is sent (one statement for the batch, not one each).
        check = self._begin_many([(a.sync_key, a.kind.value) for a in actions])
        begun = list(zip(actions, check.intents, strict=True))
        # Each model built once: reading ``a.desired`` builds the milestone from the plan's row every time.
        desired = [m for a in actions if (m := a.desired) is not None]
        try:
            with before_send(check):
                created = self.view.create(self.pair.target_container, desired)
        except errors.LeaseLostError:
            raise
        except _AMBIGUOUS as exc:
            # The platform may have stored some of them before failing: look for our sync keys.
            return self._recover_creates(begun, exc)
        except errors.BillingMilestonesError as exc:
            for _, intent in begun:
                self.store.finish(intent, error=str(exc))
            return [ActionResult(a, ok=False, error=str(exc), cause=exc) for a in actions]
        answered: list[tuple[tuple[PlannedAction, int], Milestone]] = []

        def linked() -> list[ActionResult]:
            # Linked in one transaction; an unanswered create stays pending for the next run to find.
            self.store.put_many([(self._link_of(action, made), intent) for (action, intent), made in answered])
            return [ActionResult(action, ok=True, result=made, wrote=True) for (action, _), made in answered]

        try:
            for answer in zip(begun, created, strict=True):  # a short reply raises after the answered ones
                answered.append(answer)
        except BaseException:  # the answered ones linked and recorded (the run's history counts them), then raised
            for result in linked():
                self.record(result)
            raise
        return linked()

    def _recover_creates(
        self, begun: list[tuple[PlannedAction, int]], exc: errors.BillingMilestonesError
    ) -> list[ActionResult]:
        try:
            found = {m.sync_key: m for m in stream_of(self.view, self.pair.target_container) if m.sync_key}
        except errors.BillingMilestonesError:
            found = {}
        results = []
        for action, intent in begun:
            milestone = found.get(action.sync_key)
            if milestone is not None:
                self._link(action, milestone, intent)
                results.append(ActionResult(action, ok=True, result=milestone, wrote=True))
            else:
                # Not listed yet, but the request may still be served (a read timeout fires before the request
                # bound): left pending, the next run lists once it settles and adopts what landed by its key.
                why = f"{exc} (not on the target yet; left pending: the next run lists the target once it settles)"
                results.append(ActionResult(action, ok=False, error=why, cause=exc))
        return results

    def _remove_duplicate(self, action: PlannedAction) -> ActionResult:
        """An extra copy: deleted when the plan says fix, else reported. Its twin keeps the link."""
        target = target_row(action)
        key = target.key if target is not None else None
        if not action.fix or key is None:
            return ActionResult(action, ok=True)
        check = self._begin(action.sync_key, action.kind.value)
        failed = self._deleted(check, key)
        if failed is not None:
            return ActionResult(action, ok=False, error=str(failed), cause=failed)
        self.store.finish(check.intents[0])
        return ActionResult(action, ok=True, wrote=True)

    def _delete(self, action: PlannedAction) -> ActionResult:
        check = self._begin(action.sync_key, action.kind.value)
        target = target_row(action)
        key = target.key if target is not None else None
        if key is not None and (failed := self._deleted(check, key)) is not None:
            return ActionResult(action, ok=False, error=str(failed), cause=failed)
        self.store.remove(self.pair.id, action.sync_key, intent_id=check.intents[0])
        return ActionResult(action, ok=True, wrote=target is not None)

    def _deleted(self, check: WriteCheck, key: MilestoneKey) -> errors.BillingMilestonesError | None:
        """Delete ``key`` under ``check``: None once it is gone (already gone too), else the failure, its
        intent closed as failed. A lost lease stops the run, the intent left pending."""
        try:
            with before_send(check):
                self.view.delete(key)
        except errors.NotFoundError:
            pass  # already gone: the goal is reached
        except errors.LeaseLostError:
            raise
        except errors.BillingMilestonesError as exc:
            self.store.finish(check.intents[0], error=str(exc))
            return exc
        return None

    # -- set-semantics platform (crm.com) -----------------------------------------------------------
    def replace_set(self, actions: Sequence[PlannedAction]) -> None:
        """crm.com takes the whole milestone set as one new estimate: build it, send it once, link each."""
        if not isinstance(self.view, SetWritingView):
            raise errors.ConfigError(
                f"the {self.pair.target.value} milestone view must offer replace(container_id, milestones)"
            )
        replace = self.view.replace
        # What the estimate holds: the desired content where the action writes, else the target as it is.
        keep = [
            m
            for a in actions
            if a.kind is not ActionKind.DELETE and (m := a.desired if a.writes else a.target) is not None
        ]
        writing = [a for a in actions if a.writes]
        if not writing and not any(a.kind is ActionKind.ADOPT for a in actions):
            for action in actions:
                if action.kind is ActionKind.UNCHANGED:
                    self._refresh_link(action)
                else:
                    self.record(ActionResult(action, ok=True))
            return
        check = self._begin_many([(a.sync_key, a.kind.value) for a in writing])  # none: the lease renewed
        intents = dict(zip((a.sync_key for a in writing), check.intents, strict=True))
        try:
            with before_send(check):
                stored = list(replace(self.pair.target_container, keep))
        except errors.LeaseLostError:
            raise
        except errors.BillingMilestonesError as exc:
            for intent in intents.values():
                self.store.finish(intent, error=str(exc))
            for action in actions:
                self.record(ActionResult(action, ok=action.kind not in _WRITING, error=str(exc), cause=exc))
            return
        by_stage = {m.trigger.ref: m for m in stored}
        for action in actions:
            open_intent = intents.get(action.sync_key)
            if action.kind is ActionKind.DELETE:
                self.store.remove(self.pair.id, action.sync_key, intent_id=open_intent)
                self.record(ActionResult(action, ok=True, wrote=True))
                continue
            if action.kind in (ActionKind.CONFLICT, ActionKind.SKIP_LOCKED) or source_row(action) is None:
                self.record(ActionResult(action, ok=True))
                continue
            wanted = action.desired or action.target
            if wanted is None or (milestone := by_stage.get(wanted.trigger.ref)) is None:
                if open_intent is not None:
                    self.store.finish(open_intent, error="not in the estimate crm.com returned")
                self.record(ActionResult(action, ok=False, error="crm.com did not return this stage's milestone"))
                continue
            self._link(action, milestone, open_intent)
            self.record(ActionResult(action, ok=True, result=milestone, wrote=action.writes))

    # -- links --------------------------------------------------------------------------------------
    def _link(
        self,
        action: PlannedAction,
        target: Milestone | MilestoneRow,
        intent: int | None = None,
        *,
        accepted: bool = True,
    ) -> None:
        """Record the pair as it stands now; ``accepted`` says the target's content is the agreed baseline."""
        self.store.put(self._link_of(action, target, accepted=accepted), intent_id=intent)

    def _link_of(self, action: PlannedAction, target: Milestone | MilestoneRow, *, accepted: bool = True) -> Link:
        source = source_row(action)
        assert source is not None
        assert source.text
        target_key = target.text if isinstance(target, MilestoneRow) else str(target.key or "")
        assert target_key
        desired = desired_row(action) if accepted else None
        return Link(
            pair_id=self.pair.id,
            sync_key=action.sync_key,
            source_key=source.text,
            target_key=target_key,
            source_fp=source_fingerprint(source),
            target_fp=target_fingerprint(target, self.pair),
            desired_fp=target_fingerprint(desired, self.pair) if desired is not None else "",
        )

    def _refresh_link(self, action: PlannedAction) -> None:
        target = target_row(action)
        if source_row(action) and target and not holds_link(action, link := self._link_of(action, target)):
            self.store.put(link)
        self.record(ActionResult(action, ok=True))


def _under_lease(lease: Lease, call: Callable[[], T | None]) -> T:
    """``call``'s answer: a store call that renews ``lease`` first and gives None, having done nothing, when
    the lease was no longer ours. Not called once the lease is known lost (its heartbeat failed, even if the
    row would still renew): ``lease.ensure()`` raises LeaseLostError then, as it does after a None."""
    while True:
        if lease.held:
            answer = call()
            if answer is not None:
                return answer
        lease.ensure()  # the lease is lost: raises LeaseLostError (should it hold after all, ask again)


_WRITING: Final = frozenset({ActionKind.CREATE, ActionKind.UPDATE, ActionKind.DELETE, ActionKind.ADOPT})


def _as_update(desired: Milestone, current: Milestone) -> Milestone:
    """The desired fields on the target's identity; the target keeps its own status and references."""
    refs = [r for r in current.external_refs if r.service != SYNC_SERVICE_NAME] + list(desired.external_refs)
    return desired.model_copy(
        update={
            "key": current.key,
            "raw": current.raw,
            "status": current.status,
            "locked": current.locked,
            "external_refs": tuple(refs),
        }
    )
