"""crm.com order estimate <-> common Milestone. Pure functions: data in, data out, nothing guessed silently.

crm.com has no milestone record of its own: a milestone is one stage of an order estimate's milestone plan,
so the key is ``{estimation_id}:{stage_id}`` and the container is the estimation (the order draft).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from ..errors import TranslationError, ValidationError
from ..model import ChangeKind, FieldChange, Milestone, MilestoneKey, Platform, Trigger, TriggerKind
from ..money import Money, allocate_percentages
from .wire import MilestonePlanEstimate, MilestoneRequest, OrderEstimate

__all__ = [
    "AmountPreference",
    "MilestoneSet",
    "make_key",
    "milestone_from_plan",
    "milestones_from_estimate",
    "milestones_to_request",
    "split_key",
    "stage_of",
]


class AmountPreference(StrEnum):
    """What to send when a Milestone has both an amount and a percentage (crm.com takes one, never both).

    ``AMOUNT`` (default): send the amount when it is exact in its currency, else fall back to the percentage.
    ``PERCENTAGE``: send the percentage, so the milestone follows the order total when items change.
    """

    AMOUNT = "amount"
    PERCENTAGE = "percentage"


def make_key(estimation_id: str, stage_id: str) -> MilestoneKey:
    return MilestoneKey(platform=Platform.CRMCOM, id=f"{estimation_id}:{stage_id}", container_id=estimation_id)


def split_key(key: MilestoneKey) -> tuple[str, str]:
    """``(estimation_id, stage_id)`` from a crm.com key; raises for another platform's key."""
    if key.platform is not Platform.CRMCOM:
        raise ValidationError(f"key {key}: not a crm.com milestone key", field="key", value=str(key))
    prefix = f"{key.container_id}:"
    if not key.id.startswith(prefix) or len(key.id) == len(prefix):
        raise ValidationError(
            f"key {key}: expected id '{{estimation_id}}:{{stage_id}}' with estimation id {key.container_id!r}",
            field="key",
            value=str(key),
        )
    return key.container_id, key.id[len(prefix) :]


def stage_of(milestone: Milestone) -> str:
    """The order stage a milestone fires on; any other trigger has no crm.com equivalent."""
    trigger = milestone.trigger
    if trigger.kind is not TriggerKind.ON_STAGE or not trigger.ref:
        raise TranslationError(
            f"milestone {milestone.title!r}: trigger {trigger.kind.value}"
            f"{f' ({trigger.ref})' if trigger.ref else ''} has no crm.com equivalent; crm.com milestones fire "
            "when the order reaches a stage (map it to a stage id with a TriggerMap)",
            field="trigger",
            source=milestone,
        )
    return trigger.ref


# -- wire -> common -------------------------------------------------------------------------------------
def milestone_from_plan(
    item: MilestonePlanEstimate,
    *,
    estimation_id: str,
    currency: str | None,
    exponent: int | None = None,
    fixed_amount: bool = False,
) -> Milestone:
    """One ``milestone_plan_estimate`` entry as a PLANNED, ON_STAGE Milestone.

    The amount is exact Money in the estimate's currency (quantised to its exponent; a fraction of a minor unit
    raises). ``percentage`` is kept; when the order has none, the queue's ``queue_percentage`` is used and the
    substitution recorded as DERIVED, unless ``fixed_amount`` says the request fixed this stage's amount (then
    the queue's percentage does not describe it and percentage stays None).
    """
    stage = item.stage
    if stage is None or not stage.id:  # the wire model requires it; a model_construct()ed entry may lack it
        raise TranslationError("milestone_plan_estimate entry without stage.id", field="stage.id", source=item.raw())
    stage_id = stage.id
    changes: list[FieldChange] = []
    amount: Money | None = None
    if item.amount is not None:
        if not currency:
            raise TranslationError(
                f"stage {stage_id!r}: amount {item.amount} but the estimate has no invoice_estimate.currency_code",
                field="currency_code",
                source=item.raw(),
            )
        money = Money(item.amount, currency)
        if not money.is_whole_minor(exponent=exponent):
            raise TranslationError(
                f"stage {stage_id!r}: amount {item.amount} {money.currency} has a fraction of a minor unit",
                field="amount",
                source=item.raw(),
            )
        amount = money.quantize(exponent=exponent)
    percentage = item.percentage
    if percentage is None and item.queue_percentage is not None and not (fixed_amount and amount is not None):
        percentage = item.queue_percentage
        changes.append(
            FieldChange(
                field="percentage",
                kind=ChangeKind.DERIVED,
                after=str(percentage),
                reason="no percentage set for this order; took the order queue's queue_percentage",
            )
        )
    if amount is None and percentage is None:
        raise TranslationError(
            f"stage {stage_id!r}: neither amount nor percentage in the estimate", field="amount", source=item.raw()
        )
    title = stage.name or stage_id
    if not stage.name:
        changes.append(
            FieldChange(
                field="title",
                kind=ChangeKind.DEFAULTED,
                after=stage_id,
                reason="the stage has no name; used its id",
            )
        )
    return Milestone(
        key=make_key(estimation_id, stage_id),
        title=title,
        amount=amount,
        percentage=percentage,
        trigger=Trigger.on_stage(stage_id),
        raw=item.raw(),
        changes=tuple(changes),
    )


def milestones_from_estimate(
    estimate: OrderEstimate,
    *,
    container_id: str | None = None,
    sent: Sequence[MilestoneRequest] | None = None,
) -> list[Milestone]:
    """Every milestone of an estimate's plan; the container is the estimation id (or ``container_id``).

    ``sent`` is the ``milestones[]`` the estimate was asked for, if any: stages sent with an amount keep
    percentage None instead of borrowing the queue's configured percentage.
    """
    fixed = {m.stage_id for m in sent or () if m.amount is not None}
    estimation_id = container_id or estimate.id
    if not estimation_id:
        raise TranslationError("the estimate has no id (estimation id)", field="id", source=estimate.raw())
    return [
        milestone_from_plan(
            item,
            estimation_id=estimation_id,
            currency=estimate.currency_code,
            fixed_amount=bool(item.stage and item.stage.id in fixed),
        )
        for item in estimate.plan()
    ]


# -- common -> wire -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MilestoneSet:
    """A translated set: the ``milestones[]`` to send, and the Milestones with what translation did recorded."""

    request: list[MilestoneRequest]
    milestones: list[Milestone]


def _changed_side(m: Milestone, prev: Milestone | None) -> AmountPreference | None:
    """Which of amount/percentage the caller changed since the last estimate (None: no evidence either way).

    A milestone read back from crm.com carries both; an edit to one of them must win over the other, and an
    untouched milestone keeps the kind the draft already had (a fixed amount reads back without percentage).
    """
    if prev is None:
        return None
    pct_changed = m.percentage != prev.percentage
    amount_changed = m.amount != prev.amount
    if pct_changed and amount_changed:
        return None
    if amount_changed:
        return AmountPreference.AMOUNT
    # The percentage changed, or neither did: ``m`` holds both, so an untouched ``prev`` held this percentage.
    return AmountPreference.PERCENTAGE


def milestones_to_request(
    milestones: Sequence[Milestone],
    *,
    total: Money | None = None,
    prefer: AmountPreference | str = AmountPreference.AMOUNT,
    previous: Mapping[str, Milestone] | None = None,
    currency: str | None = None,
) -> MilestoneSet:
    """Milestones to the estimate's ``milestones[]``: one per stage, amount or percentage, never both.

    Both given: the side the caller changed since the last estimate (``previous``, by stage id) wins; with no
    such evidence ``prefer`` decides (see :class:`AmountPreference`). The dropped one is recorded as DROPPED.
    Percentage only and ``total`` known: the amounts crm.com will compute are derived with
    :func:`allocate_percentages` (half-even, corrected so the set sums exactly to the total) and recorded as
    DERIVED. A trigger other than ON_STAGE raises TranslationError. ``currency`` is the estimate's currency
    when known even without a total (else the total's): an amount in another currency is refused, never sent
    as a bare number.
    """
    mode = AmountPreference(prefer)
    order_currency = currency or (total.currency if total is not None else None)
    request: list[MilestoneRequest] = []
    changes: list[list[FieldChange]] = []
    for m in milestones:
        stage = stage_of(m)
        notes: list[FieldChange] = []
        amount = m.amount
        if amount is not None and order_currency is not None and amount.currency != order_currency:
            raise TranslationError(
                f"milestone {m.title!r} (stage {stage!r}): amount in {amount.currency}, order in {order_currency}",
                field="amount",
                source=m,
            )
        exact = amount is not None and amount.is_whole_minor()
        if amount is not None and not exact and m.percentage is None:
            raise TranslationError(
                f"milestone {m.title!r} (stage {stage!r}): {amount} has a fraction of a minor unit",
                field="amount",
                source=m,
            )
        send_amount: Decimal | None = None
        send_pct: Decimal | None = None
        if amount is not None and m.percentage is not None:
            side = _changed_side(m, (previous or {}).get(stage))
            choice = side or mode
            why = "the side changed since the last estimate" if side else f"prefer='{mode.value}'"
            if choice is AmountPreference.AMOUNT and exact:
                send_amount = amount.quantize().amount
                notes.append(_dropped("percentage", m.percentage, f"sent the exact amount ({why})"))
            else:
                send_pct = m.percentage
                why = why if choice is AmountPreference.PERCENTAGE else "the amount is not exact"
                notes.append(_dropped("amount", str(amount), f"sent the percentage ({why})"))
        elif amount is not None:
            send_amount = amount.quantize().amount
        else:
            send_pct = m.percentage
        request.append(MilestoneRequest(stage_id=stage, amount=send_amount, percentage=send_pct))
        changes.append(notes)

    out = [m.model_copy(update={"changes": (*m.changes, *changes[i])}) for i, m in enumerate(milestones)]
    if total is not None:
        pct_positions = [i for i, r in enumerate(request) if r.percentage is not None]
        shares = allocate_percentages(total, [request[i].percentage or Decimal(0) for i in pct_positions])
        for n, i in enumerate(pct_positions):
            share = shares[n]
            if milestones[i].amount is None:
                derived = FieldChange(
                    field="amount",
                    kind=ChangeKind.DERIVED,
                    after=str(share),
                    reason=f"{request[i].percentage}% of the order total {total} (half-even, last absorbs)",
                )
                out[i] = out[i].model_copy(update={"amount": share, "changes": (*out[i].changes, derived)})
    return MilestoneSet(request=request, milestones=out)


def _dropped(field: str, value: object, why: str) -> FieldChange:
    return FieldChange(
        field=field,
        kind=ChangeKind.DROPPED,
        before=str(value),
        reason=f"crm.com takes a percentage or an amount per milestone, never both; {why}",
    )
