"""crm.com order milestones: typed Self-Service v2 client, adapter to the common model, and the rules."""

from ._drafts import OrderDraft
from ._errors import DraftNotFoundError
from .adapter import (
    AmountPreference,
    MilestoneSet,
    milestone_from_plan,
    milestones_from_estimate,
    milestones_to_request,
)
from .client import AsyncCrmComClient, AsyncCrmComMilestones, CrmComClient, CrmComMilestones
from .rules import MilestoneViolation, check_milestones, milestone_violations
from .wire import (
    AuthorisedContact,
    ContactToken,
    ErrorBody,
    InvoiceEstimate,
    MilestonePlanEstimate,
    MilestoneRequest,
    OrderCreated,
    OrderEstimate,
    OrderEstimateRequest,
    OrderItem,
    OrdersPage,
    OrderStage,
    Payment,
    SubmitOrderRequest,
    WireOrder,
)

__all__ = [
    "AmountPreference",
    "AsyncCrmComClient",
    "AsyncCrmComMilestones",
    "AuthorisedContact",
    "ContactToken",
    "CrmComClient",
    "CrmComMilestones",
    "DraftNotFoundError",
    "ErrorBody",
    "InvoiceEstimate",
    "MilestonePlanEstimate",
    "MilestoneRequest",
    "MilestoneSet",
    "MilestoneViolation",
    "OrderCreated",
    "OrderDraft",
    "OrderEstimate",
    "OrderEstimateRequest",
    "OrderItem",
    "OrderStage",
    "OrdersPage",
    "Payment",
    "SubmitOrderRequest",
    "WireOrder",
    "check_milestones",
    "milestone_from_plan",
    "milestone_violations",
    "milestones_from_estimate",
    "milestones_to_request",
]
