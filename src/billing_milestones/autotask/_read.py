"""A listing page's milestones in common form, each built once from the values its wire model validated.

:func:`~billing_milestones.autotask.adapter.to_milestone` reads one record and looks up, per call, what is the
same for a whole listing: the status picklist's label of each value and its common status, the contract's
currency. A listing converts every record of every page, so :func:`milestone_reader` decides those once and
returns a reader for the records. It builds the usual milestone (a title, an amount that fits the currency's
minor unit, a listed status) in one step from the wire values, with no second validation and no call per
common object; any other record (no title, no amount, a status the picklist or the labels lack, a value of an
unexpected type) is handed to ``to_milestone`` itself, which names the field it refuses. A milestone reads the
same whichever path read it: equal field for field, with the same types, fields set, repr and dumps
(``tests/autotask/test_read_milestones.py`` compares both over generated records).

The common view reads most pages without a wire model per record: where ``_page.contract_records`` vouched for
every record of a page (exactly cased keys, each value of its wire type, ids and dates checked, all of the
contract), the page's items are its JSON records, and :func:`listing_reader` reads each from there, making its
wire model (``_page._record``, the model's own reading) only when its raw payload is first read. A record's
wire model holds exactly those values, so the milestone is the one the wire record gives
(``tests/autotask/test_read_view_page.py`` compares both over generated pages).
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_EVEN, Context, Decimal, DivisionByZero, Inexact, InvalidOperation, Overflow
from typing import Any, Final

from .._wire import LazyRaw
from ..errors import TranslationError, ValidationError
from ..model import (
    SYNC_SERVICE_NAME,
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
from ..money import Money, _set_amount, _set_currency
from ._page import Record, _record, datetime_of
from .adapter import _READ_FIELDS, DEFAULT_STATUS_LABELS, _common_status, split_description, to_milestone
from .wire import ContractMilestone

__all__ = ["listing_reader", "milestone_reader"]

#: The fields set each model of a read records: one read-only set per shape (see ``model.shared_fields``),
#: not a set copied for each milestone (an object apiece for the collector to walk).
_KEY_FIELDS: Final = shared_fields(frozenset({"platform", "id", "container_id"}))
_REF_FIELDS: Final = shared_fields(frozenset({"service", "ref"}))
_MILESTONE_FIELDS: Final = shared_fields(_READ_FIELDS)
_FIXED_DATE: Final = Trigger.fixed_date()
_AUTOTASK: Final = Platform.AUTOTASK
_BILLED: Final = MilestoneStatus.BILLED
_DATETIME: Final = dt.datetime
_raw: Final = ContractMilestone.raw
#: ``Money.quantize``'s context: exact or an error, 60 digits at most (its rounding is never used: exact or
#: an error).
_EXACT: Final = Context(prec=60, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Inexact, Overflow])
#: The values a view reads of a record, by wire key, in one call.
_USUAL_KEYS: Final = ("status", "title", "amount", "dateDue", "description", "id", "contractID", "isInitialPayment")
_USUAL: Final = operator.itemgetter(*_USUAL_KEYS)


def _statuses(picklist: Mapping[int, str], labels: Mapping[str, MilestoneStatus]) -> dict[int, MilestoneStatus]:
    """Each picklist value whose label has a common status -> that status (the others are to_milestone's to
    refuse, by name)."""
    found: dict[int, MilestoneStatus] = {}
    for value, label in picklist.items():
        try:
            found[value] = _common_status(label, labels)
        except TranslationError:
            continue
    return found


def _split(text: str | None) -> tuple[str | None, str | None]:
    """:func:`split_description`, with its usual cases decided without the pattern: no marker at the end, or a
    marker of letters and digits after a space (anything else is the pattern's)."""
    if text is None:
        return None, None
    if text.endswith("]"):
        start = text.rfind("[bm:")
        key = text[start + 4 : -1]
        if start >= 0 and key.isalnum() and (start == 0 or text[start - 1].isspace()):
            return (text[:start].rstrip() or None), key
    elif not text[-1:].isspace():
        return (text or None), None
    return split_description(text)


def milestone_reader(
    picklist: Mapping[int, str], currency: str, labels: Mapping[str, MilestoneStatus] = DEFAULT_STATUS_LABELS
) -> Callable[[ContractMilestone], Milestone]:
    """``lambda wire: to_milestone(wire, picklist=picklist, currency=currency, labels=labels)``, for many records
    of one contract. A currency ``Money`` refuses gets ``to_milestone`` for every record (which names it)."""
    return _readers(picklist, currency, labels)[0]


def listing_reader(
    picklist: Mapping[int, str],
    currency: str,
    checked: Callable[[ContractMilestone], ContractMilestone],
    labels: Mapping[str, MilestoneStatus] = DEFAULT_STATUS_LABELS,
) -> Callable[[ContractMilestone | Record], Milestone]:
    """:func:`milestone_reader` for the items of a view's page: a wire record (``checked`` first), or a record
    of the contract's JSON that ``_page.contract_records`` vouched for, read as the wire model it makes."""
    return _readers(picklist, currency, labels, checked)[1]


def _wire_of(data: Record) -> ContractMilestone:
    """The wire model of a record ``_page.contract_records`` vouched for (the model's own reading otherwise)."""
    record = _record(data)
    return ContractMilestone.model_validate(data) if record is None else record


def _raw_of(data: Record) -> dict[str, Any]:
    return _wire_of(data).raw()


def _readers(
    picklist: Mapping[int, str],
    currency: str,
    labels: Mapping[str, MilestoneStatus],
    checked: Callable[[ContractMilestone], ContractMilestone] | None = None,
) -> tuple[Callable[[ContractMilestone], Milestone], Callable[[ContractMilestone | Record], Milestone]]:
    """The readers of wire records and of view items, sharing what is decided once for the contract."""
    statuses = _statuses(picklist, labels)

    def general(wire: ContractMilestone) -> Milestone:
        return to_milestone(wire, picklist=picklist, currency=currency, labels=labels)

    def of_record(item: ContractMilestone | Record) -> Milestone:
        if isinstance(item, dict):
            return general(_wire_of(item))
        return general(item if checked is None else checked(item))

    try:
        zero = Money(0, currency).quantize()  # the currency checked, and its exponent's zero, once
    except ValidationError:
        return general, of_record
    code, quantum = zero.currency, zero.amount
    containers: dict[int, str] = {}
    days: dict[str, dt.date] = {}  # a due date-time's text -> its date (one reader reads one page)

    def built(status: MilestoneStatus, title: str, exact: Decimal, text: str | None, ident: Any, container: Any,
              day: dt.date | None, initial: Any, raw: LazyRaw) -> Milestone:  # fmt: skip
        """The milestone of values the caller checked, ``exact`` the amount quantized to the currency."""
        description, sync_key = _split(text)
        key = None
        if ident is not None and container is not None:
            container_text = containers.get(container)
            if container_text is None:
                container_text = containers[container] = str(container)
            key = _new(MilestoneKey)  # MilestoneKey._trusted, written out (its call cost as much as its work)
            _set_dict(key, {"platform": _AUTOTASK, "id": str(ident), "container_id": container_text})
            _set_fields_set(key, _KEY_FIELDS)
            _set_extra(key, None)
            _set_private(key, None)
        refs: tuple[ExternalRef, ...] = ()
        if sync_key:
            ref = _new(ExternalRef)
            _set_dict(ref, {"service": SYNC_SERVICE_NAME, "ref": sync_key, "model": None, "status": None})
            _set_fields_set(ref, _REF_FIELDS)
            _set_extra(ref, None)
            _set_private(ref, None)
            refs = (ref,)
        money = _new(Money)  # a zero unsigned, with the currency's decimals
        _set_amount(money, exact if exact else quantum)
        _set_currency(money, code)
        milestone = _new(Milestone)
        _set_dict(
            milestone,
            {
                "key": key,
                "title": title,
                "description": description,
                "amount": money,
                "percentage": None,
                "due": day,
                "trigger": _FIXED_DATE,
                "status": status,
                "is_initial_payment": bool(initial),
                "locked": status is _BILLED,
                "external_refs": refs,
                "raw": raw,
                "changes": (),
            },
        )
        _set_fields_set(milestone, _MILESTONE_FIELDS)
        _set_extra(milestone, None)
        _set_private(milestone, None)
        return milestone

    def read(wire: ContractMilestone) -> Milestone:
        if type(wire) is not ContractMilestone:
            return general(wire)
        values = wire.__dict__
        status, title, amount, due = values["status"], values["title"], values["amount"], values["date_due"]
        status = statuses.get(status) if type(status) is int else None
        if (
            status is None
            or type(title) is not str
            or not title
            or title.isspace()
            or type(amount) is not Decimal
            or not amount.is_finite()  # a quiet NaN passes quantize unsignalled: to_milestone names it
            or (due is not None and type(due) is not _DATETIME)
        ):
            return general(wire)
        try:  # Money(amount, code).quantize(): one exact quantize
            exact = _EXACT.quantize(amount, quantum)
        except ArithmeticError:  # decimal's signals: a fraction of the minor unit (named by to_milestone), or
            return general(wire)  # 60 digits or more
        day = due.date() if due is not None else None
        text, ident, container = values["description"], values["id"], values["contract_id"]
        initial = values["is_initial_payment"]
        return built(status, title, exact, text, ident, container, day, initial, LazyRaw(_raw, wire))

    def read_item(item: ContractMilestone | Record) -> Milestone:
        if not isinstance(item, dict):
            return read(item if checked is None else checked(item))
        # A record contract_records vouched for: its keys exactly cased, each value of its wire type.
        try:
            status, title, amount, due, text, ident, container, initial = _USUAL(item)
        except KeyError:  # a record without some of them (a sparse answer): absent is null
            status, title, amount, due, text, ident, container, initial = map(item.get, _USUAL_KEYS)
        status = statuses.get(status)  # an int or None (a None finds none)
        if status is None or not title or title.isspace() or amount is None:
            return general(_wire_of(item))
        try:
            exact = _EXACT.quantize(amount, quantum)  # a whole amount too (the wire model's Decimal of it)
        except ArithmeticError:
            return general(_wire_of(item))
        day = None
        if due is not None:
            day = days.get(due)
            if day is None:
                day = days[due] = datetime_of(due).date()
        raw = _new(LazyRaw)  # LazyRaw(_raw_of, item), without its __init__'s frame (its slots are plain)
        raw._build = _raw_of
        raw._source = item
        return built(status, title, exact, text, ident, container, day, initial, raw)

    return read, read_item
