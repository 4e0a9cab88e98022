"""Kantata billing milestones <-> the common :class:`Milestone`: pure functions, no I/O.

Amounts travel as integer subunits whose size is the workspace's ``currency_base_unit`` (never "/100"), so
every function here takes the workspace's currency. Status readiness depends on the date and on story
states; both are inputs (``today``, ``story_states``) so the functions stay pure and testable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .._wire import LazyRaw
from ..errors import TranslationError, ValidationError
from ..model import (
    SYNC_SERVICE_NAME,
    ChangeKind,
    ExternalRef,
    FieldChange,
    Milestone,
    MilestoneKey,
    MilestoneStatus,
    Platform,
    Trigger,
    TriggerKind,
)
from ..money import Money, currency_exponent, exponent_from_base_unit
from .wire import (
    BillingMilestone,
    BillingMilestoneCreate,
    BillingMilestoneUpdate,
    BillingType,
    ExternalReference,
    ExternalReferenceInput,
    Workspace,
)

__all__ = [
    "SYNC_SERVICE_MODEL",
    "WorkspaceCurrency",
    "raw_payload",
    "sync_reference",
    "to_create_body",
    "to_milestone",
    "to_update_body",
    "wire_from_raw",
]

#: ``service_model`` of the external reference that carries our sync key.
SYNC_SERVICE_MODEL = "billing_milestone"
#: The key under which side-loaded external references are kept in ``Milestone.raw``.
RAW_REFS_KEY = "external_references"
_COMPLETED = "completed"


@dataclass(frozen=True)
class WorkspaceCurrency:
    """What translation needs from a workspace: its id, currency and subunit exponent."""

    workspace_id: str
    currency: str
    exponent: int

    @classmethod
    def from_workspace(cls, workspace: Workspace) -> WorkspaceCurrency:
        """``currency_base_unit`` gives the exponent (100 -> 2); without it, ISO 4217's exponent is used [U]."""
        if not workspace.currency:
            raise TranslationError(
                f"workspace {workspace.id} has no currency; Kantata shows it only to tokens with financial access",
                field="currency",
                source=workspace.id,
            )
        try:
            if workspace.currency_base_unit is not None:
                exponent = exponent_from_base_unit(workspace.currency_base_unit)
            else:
                exponent = currency_exponent(workspace.currency)
        except ValidationError as exc:
            raise TranslationError(
                f"workspace {workspace.id}: {exc.message}", field=exc.field, source=workspace.id
            ) from None
        return cls(str(workspace.id), workspace.currency.upper(), exponent)


def _as_currency(workspace: WorkspaceCurrency | Workspace) -> WorkspaceCurrency:
    return workspace if isinstance(workspace, WorkspaceCurrency) else WorkspaceCurrency.from_workspace(workspace)


def sync_reference(sync_key: str) -> ExternalReferenceInput:
    """The external reference that carries our sync key on a Kantata milestone."""
    return ExternalReferenceInput(
        service_name=SYNC_SERVICE_NAME,
        service_model=SYNC_SERVICE_MODEL,
        service_model_ref=sync_key,
        status="successful",
    )


def raw_payload(wire: BillingMilestone) -> dict[str, Any]:
    """The milestone's own wire object; side-loaded external references ride along under ``external_references``
    so an update can tell whether our sync key is already there."""
    raw = wire.raw()
    if wire.external_references_loaded:
        raw[RAW_REFS_KEY] = [r.raw() for r in wire.external_references]
    return raw


def wire_from_raw(raw: Mapping[str, Any]) -> BillingMilestone:
    """Inverse of :func:`raw_payload`."""
    data = dict(raw)
    refs = data.pop(RAW_REFS_KEY, None)
    wire = BillingMilestone.model_validate(data)
    if isinstance(refs, list):
        wire.attach(external_references=[ExternalReference.model_validate(r) for r in refs])
    return wire


def _trigger(wire: BillingMilestone) -> tuple[Trigger, list[FieldChange]]:
    changes: list[FieldChange] = []
    kind = wire.billing_type
    if kind is None:
        changes.append(
            FieldChange(
                field="trigger",
                kind=ChangeKind.DEFAULTED,
                after=TriggerKind.FIXED_DATE.value,
                reason="billing_type was absent; Kantata's default is taken to be fixed_date [U]",
            )
        )
        kind = BillingType.FIXED_DATE
    if kind == BillingType.UPON_COMPLETION:
        if not wire.story_id:
            raise TranslationError(
                f"billing milestone {wire.id} is upon_completion but has no story_id", field="story_id", source=wire.id
            )
        # A validated id (non-empty digits): the trigger needs no second check.
        return Trigger._trusted({"kind": TriggerKind.ON_COMPLETION, "ref": wire.story_id}, {"kind", "ref"}), changes
    if kind == BillingType.FIXED_DATE:
        if wire.story_id:
            changes.append(
                FieldChange(
                    field="story_id",
                    kind=ChangeKind.DROPPED,
                    before=wire.story_id,
                    reason="a fixed-date milestone's linked story has no place in the common model (kept in raw)",
                )
            )
        return Trigger.fixed_date(), changes
    raise TranslationError(
        f"billing milestone {wire.id} has unknown billing_type {kind!r}", field="billing_type", source=wire.id
    )


def _status(
    wire: BillingMilestone, trigger: Trigger, today: dt.date | None, story_states: Mapping[str, str]
) -> MilestoneStatus:
    if wire.invoiced:
        return MilestoneStatus.BILLED
    story_id = trigger.ref  # _trigger gives a ref to ON_COMPLETION only (FIXED_DATE has none)
    if story_id is not None:
        state = story_states.get(story_id)
        if state is None and wire.story is not None and wire.story.id == story_id:
            state = wire.story.state
        if state == _COMPLETED:
            return MilestoneStatus.READY_TO_BILL
    if today is not None and wire.date_to_invoice is not None and wire.date_to_invoice <= today:
        return MilestoneStatus.READY_TO_BILL
    return MilestoneStatus.PLANNED


def _external_refs(refs: Sequence[ExternalReference] | None) -> tuple[ExternalRef, ...]:
    # Validated wire text, and both required parts non-empty: nothing left for ExternalRef to check. A
    # milestone usually carries one reference (our sync key): that case builds no list.
    if not refs:
        return ()
    if len(refs) == 1:
        only = refs[0]
        return (_external_ref(only),) if only.service_name and only.service_model_ref else ()
    return tuple([_external_ref(r) for r in refs if r.service_name and r.service_model_ref])


def _external_ref(r: ExternalReference) -> ExternalRef:
    return _trusted_ref(
        {"service": r.service_name, "ref": r.service_model_ref, "model": r.service_model, "status": r.status},
        {"service", "ref", "model", "status"},
    )


def to_milestone(
    wire: BillingMilestone,
    workspace: WorkspaceCurrency | Workspace,
    *,
    today: dt.date | None = None,
    story_states: Mapping[str, str] | None = None,
) -> Milestone:
    """A Kantata milestone in common form.

    BILLED and locked when ``invoice_id`` is set; READY_TO_BILL when its story is completed (``story_states``
    or a side-loaded story) or ``date_to_invoice`` is on or before ``today``; PLANNED otherwise. Pass
    ``today=None`` to skip the date rule.
    """
    ws = _as_currency(workspace)
    currency = (wire.currency or ws.currency).upper()
    if currency != ws.currency:
        raise TranslationError(
            f"billing milestone {wire.id} is in {currency} but workspace {ws.workspace_id} is in {ws.currency}; "
            "the subunit size is only known for the workspace currency",
            field="currency",
            source=wire.id,
        )
    try:
        amount = Money.from_minor(wire.amount_in_cents, currency, exponent=ws.exponent)
    except ValidationError as exc:
        raise TranslationError(f"billing milestone {wire.id}: {exc.message}", field="amount", source=wire.id) from None
    changes: Sequence[FieldChange]
    if wire.billing_type == BillingType.FIXED_DATE and not wire.story_id:
        trigger, changes = _FIXED_DATE, ()  # the usual case: nothing derived, nothing dropped
    else:
        trigger, changes = _trigger(wire)
    status = _status(wire, trigger, today, story_states or _NO_STATES)
    # The wire model has validated every value (ids are non-empty digits, the date a date, the amount
    # exact), so the common models are built from them without a second validation; the one rule the wire
    # does not check, a non-empty title, takes the validating constructor, which names it.
    key = _trusted_key(
        {"platform": Platform.KANTATA, "id": wire.id, "container_id": wire.workspace_id},
        {"platform", "id", "container_id"},
    )
    values = {
        "key": key,
        "title": wire.title,
        "description": None,
        "amount": amount,
        "percentage": None,
        "due": wire.date_to_invoice,
        "trigger": trigger,
        "status": status,
        "is_initial_payment": False,
        "locked": wire.invoiced,
        "external_refs": _external_refs(wire.loaded_references()),
        "raw": LazyRaw(raw_payload, wire),
        "changes": tuple(changes) if changes else (),
    }
    if not wire.title or wire.title.isspace():
        return Milestone(**values)  # refused by name, as a blank title always is
    return _trusted_milestone(values, set(READ_FIELDS))


#: A fixed-date milestone's trigger (one shared frozen object).
_FIXED_DATE: Trigger = Trigger.fixed_date()
#: No story states given: one shared empty mapping, not a dict per milestone.
_NO_STATES: Mapping[str, str] = MappingProxyType({})
#: The trusted constructors, looked up once (see CommonModel._trusted).
_trusted_key = MilestoneKey._trusted
_trusted_ref = ExternalRef._trusted
_trusted_milestone = Milestone._trusted
#: The fields a read sets, as a validated construction records them (``model_fields_set``).
READ_FIELDS = frozenset(
    {"key", "title", "amount", "due", "trigger", "status", "locked", "external_refs", "raw", "changes"}
)


def _drop_or_raise(
    name: str, before: Any, reason: str, allow_drop: bool, changes: list[FieldChange], source: Any
) -> None:
    if not allow_drop:
        raise TranslationError(f"{name}: {reason}; pass allow_drop=True to drop it", field=name, source=source)
    changes.append(FieldChange(field=name, kind=ChangeKind.DROPPED, before=before, reason=reason))


def _wire_fields(
    milestone: Milestone, ws: WorkspaceCurrency, allow_drop: bool
) -> tuple[dict[str, Any], list[FieldChange]]:
    """The Kantata fields a common milestone maps to, or a TranslationError naming what cannot be carried."""
    source = milestone.key or milestone.title
    changes: list[FieldChange] = []
    if milestone.amount is None:
        raise TranslationError(
            f"amount: milestone {milestone.title!r} has only a percentage ({milestone.percentage}%); Kantata needs "
            "amount_in_cents, so resolve the percentage against the container total first",
            field="amount",
            source=source,
        )
    if milestone.amount.currency != ws.currency:
        raise TranslationError(
            f"amount.currency: {milestone.amount.currency} differs from workspace {ws.workspace_id}'s {ws.currency}; "
            "Kantata milestones are in the workspace currency (convert first)",
            field="amount.currency",
            source=source,
        )
    try:
        cents = milestone.amount.to_minor(exponent=ws.exponent)
    except ValidationError as exc:
        raise TranslationError(f"amount: {exc.message}", field="amount", source=source) from None
    if milestone.trigger.kind is TriggerKind.ON_STAGE:
        raise TranslationError(
            f"trigger: ON_STAGE({milestone.trigger.ref}) has no Kantata equivalent; map the stage to a story "
            "(ON_COMPLETION) or a date (FIXED_DATE) with a TriggerMap",
            field="trigger",
            source=source,
        )
    if milestone.description:
        _drop_or_raise(
            "description",
            milestone.description,
            "Kantata billing milestones have no description field",
            allow_drop,
            changes,
            source,
        )
    if milestone.is_initial_payment:
        _drop_or_raise("is_initial_payment", True, "Kantata has no initial-payment flag", allow_drop, changes, source)
    if milestone.status is MilestoneStatus.BILLED:
        _drop_or_raise(
            "status",
            milestone.status.value,
            "a Kantata milestone is billed only by putting it on an invoice, which this API call cannot do",
            allow_drop,
            changes,
            source,
        )
    if not milestone.title.strip():
        # Kantata answers 422 after the write attempt; refuse first, naming the field.
        raise ValidationError("title: a Kantata milestone needs a title that is not blank", field="title")
    fields: dict[str, Any] = {
        "title": milestone.title,
        "amount_in_cents": cents,
        "date_to_invoice": milestone.due,
    }
    if milestone.trigger.kind is TriggerKind.ON_COMPLETION:
        fields["billing_type"] = BillingType.UPON_COMPLETION
        fields["story_id"] = milestone.trigger.ref
    else:
        fields["billing_type"] = BillingType.FIXED_DATE
    return fields, changes


def to_create_body(
    milestone: Milestone, workspace: WorkspaceCurrency | Workspace, *, allow_drop: bool = False
) -> tuple[BillingMilestoneCreate, tuple[FieldChange, ...]]:
    """The create body for ``milestone`` in ``workspace`` and what translation dropped (only with ``allow_drop``).

    The sync key, if any, travels as an external reference (service ``billing-milestones``).
    """
    ws = _as_currency(workspace)
    fields, changes = _wire_fields(milestone, ws, allow_drop)
    ref = sync_reference(milestone.sync_key) if milestone.sync_key is not None else None
    body = BillingMilestoneCreate(workspace_id=ws.workspace_id, external_reference=ref, **fields)
    return body, tuple(changes)


def _sync_key_of(wire: BillingMilestone) -> str | None:
    for ref in wire.external_references:
        if ref.service_name == SYNC_SERVICE_NAME:
            return ref.service_model_ref
    return None


def to_update_body(
    milestone: Milestone,
    current: BillingMilestone,
    workspace: WorkspaceCurrency | Workspace,
    *,
    allow_drop: bool = False,
) -> tuple[BillingMilestoneUpdate, tuple[FieldChange, ...]]:
    """A PUT body with only the fields that differ from ``current`` (possibly empty).

    ``workspace_id`` is not updatable on Kantata, so a milestone keyed to another workspace is refused. A
    fixed-date milestone's linked story is left alone (the common model cannot express it). The sync-key
    reference is sent when it differs from ``current``'s, or when ``current``'s references were not loaded.
    """
    ws = _as_currency(workspace)
    if current.workspace_id != ws.workspace_id:
        raise TranslationError(
            f"workspace: milestone {current.id} is in workspace {current.workspace_id}, not {ws.workspace_id}",
            field="workspace_id",
            source=current.id,
        )
    if milestone.key is not None and milestone.key.container_id != current.workspace_id:
        raise TranslationError(
            f"key.container_id: Kantata cannot move milestone {current.id} from workspace {current.workspace_id} "
            f"to {milestone.key.container_id} (workspace_id is not updatable)",
            field="key.container_id",
            source=milestone.key,
        )
    fields, changes = _wire_fields(milestone, ws, allow_drop)
    update: dict[str, Any] = {}
    if fields["title"] != current.title:
        update["title"] = fields["title"]
    if fields["amount_in_cents"] != current.amount_in_cents:
        update["amount_in_cents"] = fields["amount_in_cents"]
    if fields["date_to_invoice"] != current.date_to_invoice:
        update["date_to_invoice"] = fields["date_to_invoice"]
    if fields["billing_type"] != (current.billing_type or BillingType.FIXED_DATE):
        update["billing_type"] = fields["billing_type"]
    if fields["billing_type"] == BillingType.UPON_COMPLETION and fields["story_id"] != current.story_id:
        update["story_id"] = fields["story_id"]
    key = milestone.sync_key
    if key is not None and (not current.external_references_loaded or _sync_key_of(current) != key):
        update["external_reference"] = sync_reference(key)
    return BillingMilestoneUpdate(**update), tuple(changes)
