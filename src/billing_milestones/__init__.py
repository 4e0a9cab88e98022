"""Typed clients and a sync engine for billing milestones on crm.com, Autotask PSA and Kantata OX."""

from typing import TYPE_CHECKING

from . import errors
from ._http import (
    METRICS_LOGGER,
    NOT_GIVEN,
    AsyncioLimiter,
    AsyncLimiter,
    AsyncRequestBudget,
    NotGiven,
    RetryPolicy,
    SlidingWindowBudget,
    SyncLimiter,
    SyncRequestBudget,
    ThreadLimiter,
)
from ._http._raw import AsyncRawResponse, RawResponse
from ._view import AsyncMilestoneView, MilestoneView
from .autotask import AsyncAutotaskClient, AutotaskClient
from .crmcom import AsyncCrmComClient, CrmComClient, OrderDraft
from .kantata import AsyncKantataClient, KantataClient
from .model import (
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
from .money import Money

if TYPE_CHECKING:
    from .sync._settle import settle_pending

__version__ = "0.1.0"

__all__ = [
    "METRICS_LOGGER",
    "NOT_GIVEN",
    "AsyncAutotaskClient",
    "AsyncCrmComClient",
    "AsyncKantataClient",
    "AsyncLimiter",
    "AsyncMilestoneView",
    "AsyncRawResponse",
    "AsyncRequestBudget",
    "AsyncioLimiter",
    "AutotaskClient",
    "ChangeKind",
    "CrmComClient",
    "ExternalRef",
    "FieldChange",
    "KantataClient",
    "Milestone",
    "MilestoneKey",
    "MilestoneStatus",
    "MilestoneView",
    "Money",
    "NotGiven",
    "OrderDraft",
    "Platform",
    "RawResponse",
    "RetryPolicy",
    "SlidingWindowBudget",
    "SyncLimiter",
    "SyncRequestBudget",
    "ThreadLimiter",
    "Trigger",
    "TriggerKind",
    "__version__",
    "errors",
    "settle_pending",
]


def __getattr__(name: str) -> object:
    """``settle_pending`` (the sync engine's, for callers who plan before ``apply_plan``) is imported when
    first asked for: ``import billing_milestones`` stays without the sync engine's modules."""
    if name == "settle_pending":
        from .sync._settle import settle_pending

        return settle_pending
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
