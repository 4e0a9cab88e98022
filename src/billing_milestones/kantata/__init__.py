"""Kantata OX (formerly Mavenlink): typed clients, wire models and the common-model adapter."""

from ._errors import MilestoneInvoicedError
from .adapter import WorkspaceCurrency, sync_reference, to_create_body, to_milestone, to_update_body
from .client import DEFAULT_BASE_URL, AsyncKantataClient, KantataClient
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
    "AsyncKantataClient",
    "BillingMilestone",
    "BillingMilestoneCreate",
    "BillingMilestoneUpdate",
    "BillingType",
    "Envelope",
    "ExternalReference",
    "ExternalReferenceInput",
    "Invoice",
    "KantataClient",
    "Meta",
    "MilestoneInvoicedError",
    "ResultRef",
    "Story",
    "Workspace",
    "WorkspaceCurrency",
    "sync_reference",
    "to_create_body",
    "to_milestone",
    "to_update_body",
]
