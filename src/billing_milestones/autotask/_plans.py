"""What the common view sends, decided before any request: checked creates and the PATCH for an update.

Shared by the sync and async views, so a batch is translated and checked whole before its first write (a bad
milestone sends nothing) and an update sends only what differs from the record as the server has it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .. import errors
from .._http import Operation
from ..model import Milestone
from . import _operations as ops
from . import adapter
from ._setup import key_ids
from .query import Query
from .wire import ContractMilestone

__all__ = ["UpdatePlan", "created", "plan_update", "prepare_create", "updatable", "with_options"]


def with_options(query: Query, max_records: int | None, include_fields: Sequence[str] | None) -> Query:
    if max_records is None and include_fields is None:
        return query
    return Query(
        *query.filter,
        max_records=max_records if max_records is not None else query.max_records,
        include_fields=include_fields if include_fields is not None else query.include_fields,
    )


def prepare_create(
    milestone: Milestone,
    contract_id: int,
    picklist: ops.StatusPicklist,
    currency: str,
    truncate: bool,
    fallback_due: dt.date | None,
) -> tuple[tuple[Operation[int], dict[str, Any]], adapter.WireFields]:
    """Translate and check every milestone before the first request, so a bad one sends nothing."""
    translated = adapter.to_wire_fields(
        milestone, picklist=picklist.labels, currency=currency, truncate=truncate, fallback_due=fallback_due
    )
    return ops.create_operation(contract_id, translated.fields, picklist), translated


def created(
    payload: Mapping[str, Any], new_id: int, translated: adapter.WireFields, picklist: ops.StatusPicklist, code: str
) -> Milestone:
    result = adapter.to_milestone(ops.as_record(payload, new_id), picklist=picklist.labels, currency=code)
    return result.model_copy(update={"changes": translated.changes})


def updatable(milestone: Milestone) -> tuple[int, int]:
    if milestone.key is None:
        raise errors.ValidationError("update: the milestone has no key; create it first", field="key")
    cid, mid = key_ids(milestone.key)
    if milestone.locked:
        raise errors.ValidationError(
            f"status: milestone {milestone.key} is Billed and locked in Autotask; it cannot be updated",
            field="status",
            value=milestone.status.value,
        )
    return cid, mid


@dataclass(frozen=True)
class UpdatePlan:
    op: Operation[int] | None
    result: Milestone


def plan_update(
    contract_id: int,
    milestone_id: int,
    translated: adapter.WireFields,
    current: ContractMilestone,
    picklist: ops.StatusPicklist,
    currency: str,
) -> UpdatePlan:
    """The PATCH for what changed (None when nothing did) and the milestone as it will read afterwards."""
    changed = adapter.diff_fields(translated.fields, current)
    record = current
    op: Operation[int] | None = None
    if changed:
        op, payload = ops.update_operation(contract_id, milestone_id, changed, current, picklist)
        record = ContractMilestone.model_validate({**current.raw(), **payload})
    elif picklist.is_billed(current.status):
        raise errors.ValidationError(
            f"status: milestone {milestone_id} is Billed and locked in Autotask", field="status", value=current.status
        )
    result = adapter.to_milestone(record, picklist=picklist.labels, currency=currency)
    return UpdatePlan(op, result.model_copy(update={"changes": translated.changes}))
