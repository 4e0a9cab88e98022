"""Order drafts: the container behind crm.com's common view (sans-IO planning; the views do the I/O).

crm.com documents milestones only on order estimates, so a "container" is an order draft: the estimate request,
kept per client and keyed by its reusable ``estimation_id``. Every write builds the new milestone *set* here,
checks it, and the view sends it as a fresh estimate with the same estimation id.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import APIResponseValidationError, NotFoundError, ValidationError
from ..model import ChangeKind, Milestone, MilestoneKey, Platform
from ..money import Money
from ._errors import DraftNotFoundError
from .adapter import AmountPreference, MilestoneSet, milestones_from_estimate, milestones_to_request, split_key
from .rules import check_milestones
from .wire import MilestoneRequest, OrderEstimate, OrderEstimateRequest

__all__ = ["DraftState", "DraftStore", "OrderDraft", "Write"]

#: The order draft a caller opens: an estimate request (``milestones`` None = the queue's defaults).
OrderDraft = OrderEstimateRequest


@dataclass(frozen=True)
class DraftState:
    """A draft and its last estimate."""

    request: OrderEstimateRequest
    estimate: OrderEstimate

    @property
    def total(self) -> Money | None:
        """The order total the milestones split, when the last estimate gave one with its currency."""
        total, currency = self.estimate.total, self.estimate.currency_code
        return Money(total, currency) if total is not None and currency else None

    def previous(self, container_id: str) -> dict[str, Milestone]:
        """The milestones of the last estimate by stage id, to tell which side an edit changed."""
        plan = milestones_from_estimate(self.estimate, container_id=container_id, sent=self.request.milestones)
        return {m.trigger.ref: m for m in plan if m.trigger.ref}

    def current_set(self) -> list[MilestoneRequest]:
        """The milestone set in force: the draft's own, else the queue defaults the last estimate showed."""
        if self.request.milestones is not None:
            return [m.model_copy() for m in self.request.milestones]
        out = []
        for item in self.estimate.plan():
            pct = item.percentage if item.percentage is not None else item.queue_percentage
            if item.stage and item.stage.id:
                out.append(
                    MilestoneRequest(
                        stage_id=item.stage.id, percentage=pct, amount=None if pct is not None else item.amount
                    )
                )
        return out


@dataclass(frozen=True)
class Write:
    """A planned write: the estimate request to send and the stages whose milestones the caller gets back."""

    container_id: str
    request: OrderEstimateRequest
    stages: tuple[str, ...]
    translated: MilestoneSet | None = None

    def result(self, estimate: OrderEstimate) -> list[Milestone]:
        """The written milestones as crm.com estimated them, carrying what translation did to each."""
        plan = milestones_from_estimate(estimate, container_id=self.container_id, sent=self.request.milestones)
        by_stage = {m.trigger.ref: m for m in plan}
        notes = {}
        if self.translated is not None:
            for req, m in zip(self.translated.request, self.translated.milestones, strict=True):
                notes[req.stage_id] = m
        out = []
        for stage in self.stages:
            got = by_stage.get(stage)
            if got is None:
                raise APIResponseValidationError(
                    f"the estimate has no milestone for stage {stage!r} that was just sent",
                    platform=Platform.CRMCOM.value,
                    method="POST",
                    path="/estimates/orders",
                    body=estimate.raw(),
                )
            sent = notes.get(stage)
            if sent is not None:
                extra = tuple(c for c in sent.changes if (c.field, c.kind) != ("amount", ChangeKind.DERIVED))
                got = got.model_copy(update={"changes": (*got.changes, *extra), "external_refs": sent.external_refs})
            out.append(got)
        return out


class DraftStore:
    """Drafts of one client (shared with its ``with_options`` copies), keyed by estimation id."""

    def __init__(self, prefer: AmountPreference | str = AmountPreference.AMOUNT) -> None:
        self.prefer = AmountPreference(prefer)
        self._drafts: dict[str, DraftState] = {}
        self._lock = threading.Lock()

    # -- store --------------------------------------------------------------------------------------
    def get(self, container_id: str) -> DraftState:
        with self._lock:
            state = self._drafts.get(container_id)
        if state is None:
            raise DraftNotFoundError(container_id)
        return state

    def put(self, container_id: str, request: OrderEstimateRequest, estimate: OrderEstimate) -> None:
        with self._lock:
            self._drafts[container_id] = DraftState(request, estimate)

    def forget(self, container_id: str) -> None:
        with self._lock:
            self._drafts.pop(container_id, None)

    def ids(self) -> list[str]:
        with self._lock:
            return list(self._drafts)

    # -- planning -----------------------------------------------------------------------------------
    @staticmethod
    def opened(draft: OrderEstimateRequest, estimate: OrderEstimate) -> str:
        """The container id of a freshly estimated draft: the estimation id the server returned.

        A draft that names its estimation must get that estimation back: another id means the server did not
        find (or would not reuse) it, and taking the new id silently would re-key every milestone of the draft.
        """
        if draft.estimation_id and estimate.id and estimate.id != draft.estimation_id:
            raise NotFoundError(
                f"estimation {draft.estimation_id!r}: the server answered with estimation {estimate.id!r}, so "
                "the draft's estimation no longer exists or cannot be reused",
                platform=Platform.CRMCOM.value,
                method="POST",
                path="/estimates/orders",
                body=estimate.raw(),
            )
        container = estimate.id or draft.estimation_id
        if not container:
            raise APIResponseValidationError(
                "the estimate returned no id, so the draft cannot be re-estimated",
                platform=Platform.CRMCOM.value,
                method="POST",
                path="/estimates/orders",
                body=estimate.raw(),
            )
        return container

    def reestimate(self, container_id: str) -> OrderEstimateRequest:
        state = self.get(container_id)
        return state.request.model_copy(update={"estimation_id": state.request.estimation_id or container_id})

    def _send(self, container_id: str, state: DraftState, new_set: list[MilestoneRequest]) -> OrderEstimateRequest:
        check_milestones(new_set, state.total)
        estimation_id = state.request.estimation_id or container_id
        return state.request.model_copy(update={"milestones": new_set, "estimation_id": estimation_id})

    def plan_create(self, container_id: str, milestones: Sequence[Milestone]) -> Write:
        state = self.get(container_id)
        current = state.current_set()
        taken = {m.stage_id for m in current}
        translated = milestones_to_request(
            milestones, total=state.total, prefer=self.prefer, currency=state.estimate.currency_code
        )
        for i, req in enumerate(translated.request):
            if req.stage_id in taken:
                raise ValidationError(
                    f"milestones[{i}] (stage {req.stage_id!r}): the draft already has a milestone for this stage "
                    "(one per stage); use update() or replace()",
                    field=f"milestones[{i}].stage_id",
                    value=req.stage_id,
                )
        request = self._send(container_id, state, [*current, *translated.request])
        stages = tuple(r.stage_id for r in translated.request if r.stage_id)
        return Write(container_id, request, stages, translated)

    def plan_replace(self, container_id: str, milestones: Sequence[Milestone]) -> Write:
        state = self.get(container_id)
        translated = milestones_to_request(
            milestones,
            total=state.total,
            prefer=self.prefer,
            previous=state.previous(container_id),
            currency=state.estimate.currency_code,
        )
        request = self._send(container_id, state, list(translated.request))
        stages = tuple(r.stage_id for r in translated.request if r.stage_id)
        return Write(container_id, request, stages, translated)

    def plan_update(self, milestone: Milestone) -> Write:
        if milestone.key is None:
            raise ValidationError(
                f"milestone {milestone.title!r}: update needs its key (from list() or create())", field="key"
            )
        container_id, stage = split_key(milestone.key)
        state = self.get(container_id)
        translated = milestones_to_request(
            [milestone],
            total=state.total,
            prefer=self.prefer,
            previous=state.previous(container_id),
            currency=state.estimate.currency_code,
        )
        new = translated.request[0]
        if new.stage_id != stage:
            raise ValidationError(
                f"milestone {milestone.key}: its trigger names stage {new.stage_id!r}, its key stage {stage!r}; "
                "a milestone cannot move stage (delete it and create another)",
                field="trigger",
                value=new.stage_id,
            )
        current = state.current_set()
        positions = [i for i, m in enumerate(current) if m.stage_id == stage]
        if not positions:
            raise ValidationError(
                f"milestone {milestone.key}: the draft has no milestone for stage {stage!r}", field="key", value=stage
            )
        current[positions[0]] = new
        request = self._send(container_id, state, current)
        return Write(container_id, request, (stage,), translated)

    def plan_delete(self, key: MilestoneKey) -> Write:
        container_id, stage = split_key(key)
        state = self.get(container_id)
        current = state.current_set()
        remaining = [m for m in current if m.stage_id != stage]
        if len(remaining) == len(current):
            raise ValidationError(f"milestone {key}: the draft has no milestone for stage {stage!r}", field="key")
        request = self._send(container_id, state, remaining)
        return Write(container_id, request, ())

    def record(self, write: Write, estimate: OrderEstimate) -> None:
        """Keep the sent set (and the estimation id the server confirmed) for the next write."""
        request = write.request
        if estimate.id and estimate.id != request.estimation_id:
            request = request.model_copy(update={"estimation_id": estimate.id})
        self.put(write.container_id, request, estimate)
