"""What a bulk create sends for many common milestones of one workspace, each written in one step.

:func:`~billing_milestones.kantata.adapter.to_create_body` translates one milestone and then validates the
body it built (and the sync key's reference) field by field, re-checking values it has just produced, and
the body is then dumped to its wire form. A bulk create writes every milestone of a batch, so
:func:`body_writer` checks what is the same for the whole batch (the workspace id) once, and writes the
usual milestone (fixed date, in the workspace's currency, nothing to drop, a title and a whole number of
minor units) straight to its wire object and the values its reply is tied back by (a
:class:`~billing_milestones.kantata._tie.Sent`), checking each value the body's validation would check: a
non-blank ``str`` title, ``int`` cents a double carries exactly, a ``date`` or no date, a non-empty ``str``
sync key. Anything else (an ON_COMPLETION or ON_STAGE trigger, a percentage, a description, another
currency, a fraction of a minor unit, a value of an unexpected type) is handed to ``to_create_body`` itself,
so what is sent is the same whichever path wrote it (the same wire object, key for key and in the same
order, and the same values tied back), and every refusal is the same typed error naming the field
(``tests/kantata/test_write_bodies.py`` compares both over generated milestones).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from .._http._json import CheckedObject
from .._wire import MAX_EXACT_INT
from ..errors import ValidationError
from ..model import SYNC_SERVICE_NAME, FieldChange, Milestone, MilestoneStatus, TriggerKind
from ..money import Money, minor_writer
from ._tie import Sent
from .adapter import SYNC_SERVICE_MODEL, WorkspaceCurrency, to_create_body
from .wire import BillingType

__all__ = ["body_writer"]

Written = tuple[Sent, tuple[FieldChange, ...]]

#: A request id as ``_request_id`` takes it, in its canonical spelling (no leading zero), exact as a JSON number.
_REQUEST_ID = re.compile(r"[1-9][0-9]{0,14}", re.ASCII)
_FIXED = TriggerKind.FIXED_DATE
_BILLED = MilestoneStatus.BILLED
#: What the body's dump writes for its billing type and the sync key's status.
_FIXED_DATE = BillingType.FIXED_DATE.value
_SUCCESSFUL = "successful"
_DATE = dt.date
_NO_CHANGES: tuple[FieldChange, ...] = ()


def body_writer(workspace: WorkspaceCurrency, *, allow_drop: bool = False) -> Callable[[Milestone], Written]:
    """``lambda m: (Sent.of(body), changes)`` of ``body, changes = to_create_body(m, workspace, allow_drop=...)``,
    for many milestones of one workspace.

    A workspace id that is not the canonical digits of a positive integer of at most 15 digits gets
    ``to_create_body`` for every milestone (the body's validation, or the exact encoder, refuses it by name)."""
    workspace_id, code, exponent = workspace.workspace_id, workspace.currency, workspace.exponent

    def general(milestone: Milestone) -> Written:
        body, changes = to_create_body(milestone, workspace, allow_drop=allow_drop)
        return Sent.of(body), changes

    try:
        minor_of = minor_writer(exponent)
    except ValidationError:
        return general  # an exponent out of range: to_create_body names it
    if type(workspace_id) is not str or not _REQUEST_ID.fullmatch(workspace_id):
        return general
    wire_workspace = int(workspace_id)  # as the body's dump sends it

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
        cents = minor_of(amount)
        if cents is None or not -MAX_EXACT_INT <= cents <= MAX_EXACT_INT:
            return general(milestone)  # a fraction of a minor unit, too many digits: to_create_body names it
        # Every value below is checked plain and exact above, so the body's encoder need not look again.
        wire: dict[str, Any] = CheckedObject(title=title, amount_in_cents=cents, workspace_id=wire_workspace)
        if due is not None:
            wire["date_to_invoice"] = due.isoformat()
        wire["billing_type"] = _FIXED_DATE
        for ref in values["external_refs"]:  # Milestone.sync_key, without the property call
            if ref.service == SYNC_SERVICE_NAME:
                key = ref.ref
                if type(key) is not str or not key:
                    return general(milestone)
                wire["external_reference"] = CheckedObject(
                    service_name=SYNC_SERVICE_NAME,
                    service_model=SYNC_SERVICE_MODEL,
                    service_model_ref=key,
                    status=_SUCCESSFUL,
                )
                break
        return Sent(wire, title, cents, workspace_id, due, None), _NO_CHANGES

    return write
