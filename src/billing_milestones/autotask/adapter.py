"""Autotask ContractMilestone <-> common Milestone: pure functions, no I/O.

Inputs the wire record does not carry are parameters: the status picklist (value -> label, read from
entityInformation/fields by the client) and the contract's currency (a milestone has no currency field).
Our sync key travels in the description as a trailing marker ``[bm:<key>]``; it counts toward the
250-character limit and is stripped from the common ``description`` on the way back.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from .._text import fit_text
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
from ..money import Money
from ._operations import LABEL_BILLED, LABEL_NOT_READY, LABEL_READY
from .wire import DESCRIPTION_MAX, TITLE_MAX, ContractMilestone

__all__ = [
    "DEFAULT_STATUS_LABELS",
    "WireFields",
    "diff_fields",
    "split_description",
    "sync_marker",
    "to_milestone",
    "to_wire_fields",
]

#: Picklist label -> common status. Labels come from the tenant at runtime; ints are never assumed.
DEFAULT_STATUS_LABELS: Final[Mapping[str, MilestoneStatus]] = {
    LABEL_NOT_READY: MilestoneStatus.PLANNED,
    LABEL_READY: MilestoneStatus.READY_TO_BILL,
    LABEL_BILLED: MilestoneStatus.BILLED,
}
_MARKER_RE: Final = re.compile(r"(?:^|\s)\[bm:([^\[\]\s]+)\]\s*$")


def sync_marker(key: str) -> str:
    """``[bm:<key>]``; keys with whitespace or brackets could not be parsed back, so they are refused."""
    if not key or re.search(r"[\s\[\]]", key):
        raise TranslationError(
            f"sync key {key!r} cannot travel in an Autotask description (no whitespace or brackets)",
            field="external_refs",
            source=key,
        )
    return f"[bm:{key}]"


def split_description(text: str | None) -> tuple[str | None, str | None]:
    """A wire description -> (the common description, our sync key or None)."""
    if text is None:
        return None, None
    match = _MARKER_RE.search(text)
    if match is None:
        return (text or None), None
    rest = text[: match.start()].rstrip()
    return (rest or None), match.group(1)


def _label_for(status: int | None, picklist: Mapping[int, str]) -> str:
    if status is None or status not in picklist:
        raise TranslationError(
            f"status {status!r} is not in the tenant's status picklist {dict(picklist)}", field="status", source=status
        )
    return picklist[status]


def _common_status(label: str, labels: Mapping[str, MilestoneStatus]) -> MilestoneStatus:
    for text, status in labels.items():
        if text.lower() == label.lower():
            return status
    raise TranslationError(
        f"status label {label!r} has no common status (known: {sorted(labels)}); unknown labels are never defaulted",
        field="status",
        source=label,
    )


def _money(amount: Decimal | None, currency: str, milestone_id: object) -> Money:
    if amount is None:
        raise TranslationError(f"milestone {milestone_id}: amount is missing", field="amount")
    try:
        money = Money(amount, currency)
        return money.quantize()
    except ValidationError as exc:
        raise TranslationError(
            f"milestone {milestone_id}: amount {amount} {currency} does not fit the currency's minor unit "
            f"({exc.message})",
            field="amount",
            source=amount,
        ) from None


def to_milestone(
    record: ContractMilestone | Mapping[str, Any],
    *,
    picklist: Mapping[int, str],
    currency: str,
    labels: Mapping[str, MilestoneStatus] = DEFAULT_STATUS_LABELS,
) -> Milestone:
    """One Autotask record in common form. ``currency`` is the contract's (Autotask sends none)."""
    wire = ContractMilestone.model_validate(record)  # a ContractMilestone is returned as it is
    status = _common_status(_label_for(wire.status, picklist), labels)
    description, sync_key = split_description(wire.description)
    # Every value below comes from the validated wire model (ids are integers, so their text is never
    # empty), the title is checked here, and the amount always exists: the common models are built without
    # a second validation, and the raw payload is dumped when first read.
    key = None
    if wire.id is not None and wire.contract_id is not None:
        key = MilestoneKey._trusted(
            {"platform": Platform.AUTOTASK, "id": str(wire.id), "container_id": str(wire.contract_id)},
            {"platform", "id", "container_id"},
        )
    if not wire.title:
        raise TranslationError(f"milestone {wire.id}: title is missing", field="title")
    if wire.title.isspace():  # as Milestone(title=" ") refuses it: the trusted build below must not take it
        raise TranslationError(f"milestone {wire.id}: title is blank ({wire.title!r})", field="title")
    refs = (_sync_ref(sync_key),) if sync_key else ()
    values = {
        "key": key,
        "title": wire.title,
        "description": description,
        "amount": _money(wire.amount, currency, wire.id),
        "percentage": None,
        "due": wire.date_due.date() if wire.date_due is not None else None,
        "trigger": Trigger.fixed_date(),
        "status": status,
        "is_initial_payment": bool(wire.is_initial_payment),
        "locked": status is MilestoneStatus.BILLED,
        "external_refs": refs,
        "raw": LazyRaw(wire.raw),
        "changes": (),
    }
    return Milestone._trusted(values, set(_READ_FIELDS))


#: The fields a read sets, as a validated construction records them (``model_fields_set``).
_READ_FIELDS: Final = frozenset(
    {"key", "title", "description", "amount", "due", "status", "is_initial_payment", "locked", "external_refs", "raw"}
)


def _sync_ref(sync_key: str) -> ExternalRef:
    values = {"service": SYNC_SERVICE_NAME, "ref": sync_key, "model": None, "status": None}
    return ExternalRef._trusted(values, {"service", "ref"})


@dataclass(frozen=True)
class WireFields:
    """Writable ContractMilestone fields (wire keys, Python values) and what translation did to get them."""

    fields: dict[str, Any]
    changes: tuple[FieldChange, ...] = ()


def _fit(name: str, text: str, limit: int, truncate: bool, changes: list[FieldChange], why: str = "") -> str:
    # Each common field has the same name on the wire (title, description).
    return fit_text(
        name,
        text,
        limit,
        truncate=truncate,
        changes=changes,
        where=f"Autotask {name}",
        hint="pass truncate=True to cut it",
        why=why,
    )


def _description(milestone: Milestone, truncate: bool, changes: list[FieldChange]) -> str | None:
    key = milestone.sync_key
    marker = sync_marker(key) if key else ""
    text = milestone.description or ""
    if len(marker) > DESCRIPTION_MAX:
        raise TranslationError(
            f"sync key marker is {len(marker)} characters; the description holds {DESCRIPTION_MAX}",
            field="external_refs",
            source=key,
        )
    if not marker:
        return _fit("description", text, DESCRIPTION_MAX, truncate, changes) if text else None
    if not text:
        return marker
    room = DESCRIPTION_MAX - len(marker) - 1
    why = f" (plus the {len(marker) + 1}-character sync-key marker)"
    text = _fit("description", text, room, truncate, changes, why)
    return f"{text} {marker}"


def _due(milestone: Milestone, fallback_due: dt.date | None, changes: list[FieldChange]) -> dt.date:
    trigger = milestone.trigger
    if trigger.kind is not TriggerKind.FIXED_DATE:
        if fallback_due is None:
            raise TranslationError(
                f"trigger {trigger.kind.value}({trigger.ref}) cannot be sent to Autotask, whose milestones are due "
                "on a date only; pass fallback_due= to send it as a fixed date",
                field="trigger",
                source=trigger,
            )
        due = milestone.due or fallback_due
        changes.append(
            FieldChange(
                field="trigger",
                kind=ChangeKind.DROPPED,
                before=f"{trigger.kind.value}:{trigger.ref}",
                after=f"{TriggerKind.FIXED_DATE.value}:{due.isoformat()}",
                reason="Autotask milestones only have a due date",
            )
        )
        if milestone.due is None:
            changes.append(
                FieldChange(field="due", kind=ChangeKind.DEFAULTED, after=due, reason="the caller's fallback due date")
            )
        return due
    if milestone.due is not None:
        return milestone.due
    if fallback_due is None:
        raise TranslationError("due: Autotask requires dateDue; set Milestone.due or pass fallback_due=", field="due")
    changes.append(
        FieldChange(field="due", kind=ChangeKind.DEFAULTED, after=fallback_due, reason="the caller's fallback due date")
    )
    return fallback_due


def to_wire_fields(
    milestone: Milestone,
    *,
    picklist: Mapping[int, str],
    currency: str,
    truncate: bool = False,
    fallback_due: dt.date | None = None,
    labels: Mapping[str, MilestoneStatus] = DEFAULT_STATUS_LABELS,
) -> WireFields:
    """A common milestone as the writable Autotask fields (``contractID`` comes from the route)."""
    changes: list[FieldChange] = []
    if milestone.amount is None:
        raise TranslationError(
            "amount: Autotask needs an amount; derive it from the percentage and the contract total first",
            field="amount",
            source=milestone.percentage,
        )
    if milestone.amount.currency != currency.upper():
        raise TranslationError(
            f"amount: milestone is in {milestone.amount.currency}, the contract bills in {currency.upper()}; "
            "convert explicitly first",
            field="amount",
            source=milestone.amount,
        )
    try:
        amount = milestone.amount.quantize().amount
    except ValidationError as exc:
        raise TranslationError(exc.message, field="amount", source=milestone.amount) from None
    wanted = [text for text, status in labels.items() if status is milestone.status]
    value = next(
        (v for v, text in picklist.items() for w in wanted if text.lower() == w.lower()),
        None,
    )
    if value is None:
        raise TranslationError(
            f"status {milestone.status.value}: no label {wanted} in the tenant's status picklist {dict(picklist)}",
            field="status",
            source=milestone.status,
        )
    fields: dict[str, Any] = {
        "title": _fit("title", milestone.title, TITLE_MAX, truncate, changes),
        "description": _description(milestone, truncate, changes),
        "amount": amount,
        "dateDue": _due(milestone, fallback_due, changes),
        "status": value,
        "isInitialPayment": milestone.is_initial_payment,
    }
    return WireFields(fields, tuple(changes))


def diff_fields(fields: Mapping[str, Any], current: ContractMilestone) -> dict[str, Any]:
    """Only the fields whose value differs from the current record (what a PATCH should carry)."""
    now = current.raw()
    changed: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "dateDue":
            before: Any = current.date_due.date() if current.date_due is not None else None
            after: Any = value.date() if isinstance(value, dt.datetime) else value
        elif key == "amount":
            before, after = current.amount, value
        else:
            before, after = now.get(key), value
        if before != after:
            changed[key] = value
    return changed
