"""Tying a bulk create's reply back to what was sent, and what is sent for each milestone.

Kantata does not document that a bulk create's results come back in request order [U], so each created
milestone is paired with the input it was made from (:func:`tie_back`), by what the input said: its title,
amount and workspace, and among equals its date and story. A reply that cannot be paired is refused: a
milestone tied to the wrong input would be linked to the wrong source milestone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

from .. import errors
from .wire import BillingMilestone, BillingMilestoneCreate

__all__ = ["Fingerprinted", "Sent", "tie_back"]


class Fingerprinted(Protocol):
    """What :func:`tie_back` compares of an input (a :class:`BillingMilestoneCreate` has it, so has :class:`Sent`)."""

    @property
    def title(self) -> str: ...
    @property
    def amount_in_cents(self) -> int: ...
    @property
    def workspace_id(self) -> str | int: ...
    @property
    def date_to_invoice(self) -> dt.date | None: ...
    @property
    def story_id(self) -> str | int | None: ...


class Sent(NamedTuple):
    """One milestone of a bulk create: its wire object (an item of ``billing_milestones``) and what the reply
    is tied back by, which are the body's own values."""

    wire: dict[str, Any]
    title: str
    amount_in_cents: int
    workspace_id: str | int
    date_to_invoice: dt.date | None
    story_id: str | int | None

    @classmethod
    def of(cls, body: BillingMilestoneCreate) -> Sent:
        """What is sent for ``body``."""
        return cls(
            body.to_wire(), body.title, body.amount_in_cents, body.workspace_id, body.date_to_invoice, body.story_id
        )


def _fingerprint(title: str, cents: int, workspace_id: object) -> tuple[str, int, str]:
    """What identifies a created milestone's input (titles compared without surrounding whitespace)."""
    return (title.strip(), cents, str(workspace_id))


def _detail(date_to_invoice: dt.date | None, story_id: object) -> tuple[str, str]:
    """What tells apart milestones sharing title and amount (monthly instalments): their date and story."""
    return (date_to_invoice.isoformat() if date_to_invoice else "", str(story_id) if story_id else "")


def _in_place(sent: Fingerprinted, made: BillingMilestone) -> bool:
    """Whether ``made`` is ``sent``'s milestone by the fingerprint and detail :func:`tie_back` compares: the
    usual reply, in request order, decided without building them (a False here takes the full comparison)."""
    due, story = sent.date_to_invoice, sent.story_id
    return (
        made.amount_in_cents == sent.amount_in_cents
        and made.title.strip() == sent.title.strip()
        and made.workspace_id == str(sent.workspace_id)
        and (
            made.date_to_invoice is None
            if due is None
            else type(due) is type(made.date_to_invoice) and due == made.date_to_invoice
        )
        and (made.story_id is None if story is None else made.story_id == story)
    )


def tie_back(inputs: Sequence[Fingerprinted], created: list[BillingMilestone]) -> list[BillingMilestone]:
    """Pair each created milestone with its input, in input order.

    Kantata does not document that bulk results come back in request order [U]; we check each position and,
    if the order differs, match on (title, amount, workspace) and, among equals, on date and story first.
    Anything we cannot pair raises.
    """
    if len(created) != len(inputs):
        raise errors.ValidationError(f"sent {len(inputs)} billing milestones, the response holds {len(created)}")
    if all(map(_in_place, inputs, created)):
        return created
    wanted = [_fingerprint(i.title, i.amount_in_cents, i.workspace_id) for i in inputs]
    got = [_fingerprint(c.title, c.amount_in_cents, c.workspace_id) for c in created]
    wanted_detail = [_detail(i.date_to_invoice, i.story_id) for i in inputs]
    got_detail = [_detail(c.date_to_invoice, c.story_id) for c in created]
    if wanted == got and wanted_detail == got_detail:
        return created
    free = list(range(len(created)))
    chosen: list[int | None] = [None] * len(inputs)
    # Exact matches first, so a looser match never takes a milestone another input matches exactly.
    for exact in (True, False):
        for position, fp in enumerate(wanted):
            if chosen[position] is not None:
                continue
            for j in free:
                if got[j] == fp and (not exact or got_detail[j] == wanted_detail[position]):
                    chosen[position] = j
                    free.remove(j)
                    break
    ordered: list[BillingMilestone] = []
    for position, (fp, pick) in enumerate(zip(wanted, chosen, strict=True)):
        if pick is None:
            raise errors.ValidationError(
                f"cannot tie created milestones back to input {position} ({fp[0]!r}, {fp[1]}): no match in the response"
            )
        ordered.append(created[pick])
    return ordered
