"""Typed clients and a sync engine for billing milestones on crm.com, Autotask PSA and Kantata OX."""

import importlib
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
    from .autotask import AsyncAutotaskClient, AutotaskClient
    from .crmcom import AsyncCrmComClient, CrmComClient, OrderDraft
    from .kantata import AsyncKantataClient, KantataClient
    from .sync._settle import settle_pending

#: Names imported when first asked for, by the module that defines them: a program that uses one platform
#: does not import the other two (their wire models, clients and specs: 2-3 MB a process), nor the sync
#: engine when it only reads.
_LAZY = {
    "AsyncAutotaskClient": "autotask",
    "AutotaskClient": "autotask",
    "AsyncCrmComClient": "crmcom",
    "CrmComClient": "crmcom",
    "OrderDraft": "crmcom",
    "AsyncKantataClient": "kantata",
    "KantataClient": "kantata",
    "settle_pending": "sync._settle",
}
_PACKAGES = frozenset({"autotask", "crmcom", "kantata"})  # imported by this module before, so attributes

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
    """A platform's clients (and ``settle_pending``, the sync engine's, for callers who plan before
    ``apply_plan``) are imported when first asked for; a platform package itself likewise
    (``billing_milestones.kantata``), as an imported submodule is an attribute of its package."""
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    elif name in _PACKAGES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # asked once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_PACKAGES})
