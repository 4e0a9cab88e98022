"""What the sync engine needs to know about a platform, as data: one ``PlatformSpec`` per platform.

The sync engine (``billing_milestones.sync``) reads only these specs and the view Protocols: it knows no
platform package. Each platform package declares its own spec in ``<platform>/_spec.py``; the registry in
:mod:`billing_milestones._platforms` gathers them. Adding a platform means writing its package and its spec,
not editing the planner.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .model import Platform, TriggerKind

__all__ = ["PlatformSpec", "TriggerRules", "WriteMode"]


class WriteMode(StrEnum):
    """How the platform takes writes."""

    #: One request per milestone (Autotask), bounded by ``max_in_flight``.
    PER_ITEM = "per-item"
    #: Creates go ``batch_size`` per request (Kantata); updates and deletes one by one.
    BULK = "bulk"
    #: The whole milestone set in one write (crm.com's estimate): the view offers ``replace``.
    WHOLE_SET = "whole-set"


@dataclass(frozen=True)
class TriggerRules:
    """Which triggers the platform stores, and the words its messages use for them."""

    #: The trigger kinds a milestone on this platform can hold.
    native: frozenset[TriggerKind]
    #: What a fixed-date milestone is called there, with its article ("a Kantata fixed_date milestone"), for
    #: "needs a date" messages, when fixed dates are native.
    fixed_date_what: str = ""
    #: The platform's due-date field, named when a completion trigger falls back to the milestone's own date.
    due_field: str = ""


@dataclass(frozen=True)
class PlatformSpec:
    """The facts about one platform that planning and applying depend on."""

    platform: Platform
    #: How people write its name ("crm.com", "Kantata", "Autotask").
    label: str
    #: The fields it stores and lets us write: only these are compared and fingerprinted.
    compared_fields: tuple[str, ...]
    triggers: TriggerRules
    write_mode: WriteMode
    #: Text limits (field -> characters) after any room the sync key takes.
    text_limits: Mapping[str, int] = field(default_factory=dict)
    has_description: bool = False
    #: It needs an amount (crm.com also takes a bare percentage of the order total).
    needs_amount: bool = True
    has_due: bool = True
    has_initial_payment: bool = False
    can_delete: bool = True
    #: A milestone there can carry our sync key (so a lost link store is re-adopted by key).
    keeps_sync_key: bool = True
    #: A trigger holds one milestone there (crm.com: a stage), so an unlinked milestone on the same trigger is
    #: adopted (and updated) rather than another one created beside it.
    adopt_by_trigger: bool = False
    #: Creates per request.
    batch_size: int = 1
    #: Writes in flight at once.
    max_in_flight: int = 1
    #: Containers are named in the config and opened by the client (crm.com order drafts) rather than ids.
    named_containers: bool = False
    #: Opens a named container from its config fields with a client, returning the container id (crm.com:
    #: estimates the order draft); raises our ValidationError naming a bad field.
    open_named: Callable[[Any, dict[str, Any]], str] | None = None
    #: Builds a sync client from the platform's settings section (``Settings.<platform>``) and an optional
    #: ``httpx.Client``.
    connect: Callable[[Any, Any], Any] | None = None
