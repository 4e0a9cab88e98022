"""Typed clients and a sync engine for billing milestones on crm.com, Autotask PSA and Kantata OX."""

from . import errors
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

__version__ = "0.1.0"

__all__ = [
    "ChangeKind",
    "ExternalRef",
    "FieldChange",
    "Milestone",
    "MilestoneKey",
    "MilestoneStatus",
    "Money",
    "Platform",
    "Trigger",
    "TriggerKind",
    "__version__",
    "errors",
]
