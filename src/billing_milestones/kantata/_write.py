"""Create bodies for many common milestones of one workspace, each built in one step from checked values.

:func:`~billing_milestones.kantata.adapter.to_create_body` translates one milestone and then validates the
body it built (and the sync key's reference) field by field, re-checking values it has just produced. A
bulk create translates every milestone of a batch, so :func:`body_writer` checks what is the same for the
whole batch (the workspace id) once, and builds the usual body (a fixed-date milestone in the workspace's
currency, nothing to drop, a title and a whole number of minor units) directly, checking each value the
body's validation would check: a non-blank ``str`` title, ``int`` cents a double carries exactly, a
``date`` or no date, a non-empty ``str`` sync key. Anything else (an ON_COMPLETION or ON_STAGE trigger, a
percentage, a description, another currency, a fraction of a minor unit, a value of an unexpected type) is
handed to ``to_create_body`` itself, so a body is the same whichever path built it (equal field for field,
with the same fields set) and every refusal is the same typed error naming the field
(``tests/kantata/test_write_bodies.py`` compares both over generated milestones).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from .._wire import MAX_EXACT_INT
from ..errors import ValidationError
from ..model import (
    SYNC_SERVICE_NAME,
    FieldChange,
    Milestone,
    MilestoneStatus,
    TriggerKind,
    _new,
    _set_dict,
    _set_extra,
    _set_fields_set,
    _set_private,
)
from ..money import Money
from .adapter import SYNC_SERVICE_MODEL, WorkspaceCurrency, to_create_body
from .wire import BillingMilestoneCreate, BillingType, ExternalReferenceInput

__all__ = ["body_writer"]

Written = tuple[BillingMilestoneCreate, tuple[FieldChange, ...]]

#: A request id as ``_request_id`` takes it: digits, at least 1 (no leading zero: the canonical spelling).
_REQUEST_ID = re.compile(r"[1-9][0-9]*")
_BODY_FIELDS = frozenset(
    {"title", "amount_in_cents", "workspace_id", "date_to_invoice", "billing_type", "external_reference"}
)
_REF_FIELDS = frozenset({"service_name", "service_model", "service_model_ref", "status"})
_FIXED = TriggerKind.FIXED_DATE
_BILLED = MilestoneStatus.BILLED
_FIXED_DATE = BillingType.FIXED_DATE
_DATE = dt.date
_NO_CHANGES: tuple[FieldChange, ...] = ()


def body_writer(workspace: WorkspaceCurrency, *, allow_drop: bool = False) -> Callable[[Milestone], Written]:
    """``lambda m: to_create_body(m, workspace, allow_drop=allow_drop)``, for many milestones of one workspace.

    A workspace id that is not the canonical digits of a positive integer gets ``to_create_body`` for every
    milestone (the body's validation refuses it by name)."""
    workspace_id, code, exponent = workspace.workspace_id, workspace.currency, workspace.exponent

    def general(milestone: Milestone) -> Written:
        return to_create_body(milestone, workspace, allow_drop=allow_drop)

    if type(workspace_id) is not str or not workspace_id.isascii() or not _REQUEST_ID.fullmatch(workspace_id):
        return general

    def write(milestone: Milestone) -> Written:
        if type(milestone) is not Milestone:
            return general(milestone)  # a subclass may read its fields its own way
        values = milestone.__dict__
        title, amount, due = values["title"], values["amount"], values["due"]
        if (
            type(amount) is not Money
            or amount.currency != code
            or values["trigger"].kind is not _FIXED
            or values["description"]
            or values["is_initial_payment"]
            or values["status"] is _BILLED
            or type(title) is not str
            or not title
            or title.isspace()
            or (due is not None and type(due) is not _DATE)
        ):
            return general(milestone)
        try:
            cents = amount.to_minor(exponent=exponent)
        except ValidationError:
            return general(milestone)  # a fraction of a minor unit: to_create_body names it
        if not -MAX_EXACT_INT <= cents <= MAX_EXACT_INT:
            return general(milestone)
        reference: ExternalReferenceInput | None = None
        for ref in values["external_refs"]:  # Milestone.sync_key, without the property call
            if ref.service == SYNC_SERVICE_NAME:
                key = ref.ref
                if type(key) is not str or not key:
                    return general(milestone)
                reference = _new(ExternalReferenceInput)
                _set_dict(
                    reference,
                    {
                        "service_name": SYNC_SERVICE_NAME,
                        "service_model": SYNC_SERVICE_MODEL,
                        "service_model_ref": key,
                        "status": "successful",
                        "external_message": None,
                        "external_link": None,
                        "external_status": None,
                        "locked": None,
                    },
                )
                _set_fields_set(reference, set(_REF_FIELDS))
                _set_extra(reference, {})
                _set_private(reference, None)
                break
        body = _new(BillingMilestoneCreate)
        _set_dict(
            body,
            {
                "title": title,
                "amount_in_cents": cents,
                "workspace_id": workspace_id,
                "date_to_invoice": due,
                "billing_type": _FIXED_DATE,
                "story_id": None,
                "external_reference": reference,
            },
        )
        _set_fields_set(body, set(_BODY_FIELDS))
        _set_extra(body, {})
        _set_private(body, None)
        return body, _NO_CHANGES

    return write
