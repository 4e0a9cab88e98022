"""Autotask PSA: ContractMilestones client, query builder, wire models and the common-model adapter."""

from . import adapter
from ._operations import DEFAULT_DISCOVERY_URL, HourlyBudget, RequestBudget, StatusPicklist
from .client import (
    AsyncAutotaskClient,
    AsyncAutotaskMilestones,
    AsyncContractMilestones,
    AutotaskClient,
    AutotaskMilestones,
    ContractMilestones,
)
from .query import F, Query
from .wire import (
    ContractMilestone,
    EntityInformation,
    FieldInformation,
    PicklistValue,
    ThresholdInformation,
    ZoneInformation,
)

__all__ = [
    "DEFAULT_DISCOVERY_URL",
    "AsyncAutotaskClient",
    "AsyncAutotaskMilestones",
    "AsyncContractMilestones",
    "AutotaskClient",
    "AutotaskMilestones",
    "ContractMilestone",
    "ContractMilestones",
    "EntityInformation",
    "F",
    "FieldInformation",
    "HourlyBudget",
    "PicklistValue",
    "Query",
    "RequestBudget",
    "StatusPicklist",
    "ThresholdInformation",
    "ZoneInformation",
    "adapter",
]
