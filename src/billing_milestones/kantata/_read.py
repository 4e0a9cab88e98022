"""A listing page's milestones in common form, each built once from the values its wire model validated.

:func:`~billing_milestones.kantata.adapter.to_milestone` reads one milestone and checks, per call, what is the
same for a whole page (the workspace's currency and exponent, today's date). A listing converts every item of
every page, so :func:`milestone_reader` checks those once and returns a reader for the page's items. It
builds the usual milestone (fixed date, no linked story, the workspace's currency, a title, at most one
external reference) in one step from the wire values, with no second validation and no call per common
object; every other milestone, and any value of an unexpected type, is handed to ``to_milestone`` itself, so
a milestone reads the same whichever path read it: equal field for field, with the same types, fields set,
repr and dumps, and the same typed errors (``tests/kantata/test_adapter_reader.py`` compares both over
generated pages).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from .._currency import check_currency
from .._wire import LazyRaw
from ..errors import ValidationError
from ..model import (
    ExternalRef,
    Milestone,
    MilestoneKey,
    MilestoneStatus,
    Platform,
    Trigger,
    _new,
    _set_dict,
    _set_extra,
    _set_fields_set,
    _set_private,
    shared_fields,
)
from ..money import minor_reader
from .adapter import READ_FIELDS, WorkspaceCurrency, raw_payload, to_milestone
from .wire import BillingMilestone, BillingType

__all__ = ["milestone_reader"]

#: The fields set each model of a read records, one read-only set per shape (see ``model.shared_fields``).
_KEY_FIELDS = shared_fields(frozenset({"platform", "id", "container_id"}))
_REF_FIELDS = shared_fields(frozenset({"service", "ref", "model", "status"}))
_MILESTONE_FIELDS = shared_fields(READ_FIELDS)
_FIXED_DATE: Trigger = Trigger.fixed_date()
_KANTATA = Platform.KANTATA
_PLANNED, _READY, _BILLED = MilestoneStatus.PLANNED, MilestoneStatus.READY_TO_BILL, MilestoneStatus.BILLED
_DATE = dt.date
_FIXED_DATE_TYPE = str(BillingType.FIXED_DATE)


def milestone_reader(
    workspace: WorkspaceCurrency, *, today: dt.date | None = None
) -> Callable[[BillingMilestone], Milestone]:
    """``lambda wire: to_milestone(wire, workspace, today=today)``, for many milestones of one workspace.

    A workspace whose currency is not an upper-case ISO 4217 code, or whose exponent is out of range, gets
    ``to_milestone`` for every milestone (which refuses them by name)."""
    code = workspace.currency
    try:
        amount_of = minor_reader(code, workspace.exponent) if check_currency(code) == code else None
    except ValidationError:
        amount_of = None
    if amount_of is None or (today is not None and type(today) is not _DATE):
        return lambda wire: to_milestone(wire, workspace, today=today)

    def general(wire: BillingMilestone) -> Milestone:
        return to_milestone(wire, workspace, today=today)

    def read(wire: BillingMilestone) -> Milestone:
        values = wire.__dict__
        title, cents, due, currency = (
            values["title"],
            values["amount_in_cents"],
            values["date_to_invoice"],
            values["currency"],
        )
        if (
            values["billing_type"] != _FIXED_DATE_TYPE
            or values["story_id"] is not None
            or (currency is not None and currency != code)
            or type(title) is not str
            or not title
            or title.isspace()
            or type(cents) is not int
            or (due is not None and type(due) is not _DATE)
        ):
            return general(wire)
        state = wire.__pydantic_private__
        refs = state.get("external_references") if state else None
        if refs:
            if len(refs) != 1:
                return general(wire)
            only = refs[0].__dict__
            service, ref = only["service_name"], only["service_model_ref"]
            if not (service and ref):
                return general(wire)
            # Each model is built as CommonModel._trusted builds it, written out: the call, three per
            # milestone, cost as much as the five slot writes it makes.
            external = _new(ExternalRef)
            _set_dict(
                external,
                {"service": service, "ref": ref, "model": only["service_model"], "status": only["status"]},
            )
            _set_fields_set(external, _REF_FIELDS)
            _set_extra(external, None)
            _set_private(external, None)
            external_refs: tuple[ExternalRef, ...] = (external,)
        else:
            external_refs = ()
        try:
            amount = amount_of(cents)
        except ValidationError:
            return general(wire)  # more digits than the wire allows: to_milestone names it
        key = _new(MilestoneKey)
        _set_dict(key, {"platform": _KANTATA, "id": values["id"], "container_id": values["workspace_id"]})
        _set_fields_set(key, _KEY_FIELDS)
        _set_extra(key, None)
        _set_private(key, None)
        invoiced = values["invoice_id"] is not None
        if invoiced:
            status = _BILLED
        elif today is not None and due is not None and due <= today:
            status = _READY
        else:
            status = _PLANNED
        milestone = _new(Milestone)
        _set_dict(
            milestone,
            {
                "key": key,
                "title": title,
                "description": None,
                "amount": amount,
                "percentage": None,
                "due": due,
                "trigger": _FIXED_DATE,
                "status": status,
                "is_initial_payment": False,
                "locked": invoiced,
                "external_refs": external_refs,
                "raw": LazyRaw(raw_payload, wire),
                "changes": (),
            },
        )
        _set_fields_set(milestone, _MILESTONE_FIELDS)
        _set_extra(milestone, None)
        _set_private(milestone, None)
        return milestone

    return read
