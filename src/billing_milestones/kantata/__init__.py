"""Kantata OX (formerly Mavenlink): typed clients, wire models and the common-model adapter."""

from . import adapter
from ._errors import MilestoneInvoicedError
from ._operations import MilestoneCreateFields, MilestoneFilters, MilestoneUpdateFields, StoryFilters
from ._setup import AsyncOptions, SyncOptions
from .adapter import WorkspaceCurrency, sync_reference, to_create_body, to_milestone, to_update_body
from .client import (
    DEFAULT_BASE_URL,
    AsyncBillingMilestones,
    AsyncKantataClient,
    AsyncKantataMilestones,
    AsyncStories,
    AsyncWorkspaces,
    BillingMilestones,
    KantataClient,
    KantataMilestones,
    Stories,
    Workspaces,
)
from .wire import (
    BillingMilestone,
    BillingMilestoneCreate,
    BillingMilestoneUpdate,
    BillingType,
    Envelope,
    ExternalReference,
    ExternalReferenceInput,
    Invoice,
    Meta,
    ResultRef,
    Story,
    Workspace,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "AsyncBillingMilestones",
    "AsyncKantataClient",
    "AsyncKantataMilestones",
    "AsyncOptions",
    "AsyncStories",
    "AsyncWorkspaces",
    "BillingMilestone",
    "BillingMilestoneCreate",
    "BillingMilestoneUpdate",
    "BillingMilestones",
    "BillingType",
    "Envelope",
    "ExternalReference",
    "ExternalReferenceInput",
    "Invoice",
    "KantataClient",
    "KantataMilestones",
    "Meta",
    "MilestoneCreateFields",
    "MilestoneFilters",
    "MilestoneInvoicedError",
    "MilestoneUpdateFields",
    "ResultRef",
    "Stories",
    "Story",
    "StoryFilters",
    "SyncOptions",
    "Workspace",
    "WorkspaceCurrency",
    "Workspaces",
    "adapter",
    "sync_reference",
    "to_create_body",
    "to_milestone",
    "to_update_body",
]
