"""Autotask PSA: ContractMilestones client, query builder, wire models and the common-model adapter."""

from .._metadata_cache import SHARED_METADATA, MetadataCache
from . import adapter
from ._operations import (
    DEFAULT_DISCOVERY_URL,
    ContractMilestoneCreateFields,
    ContractMilestoneUpdateFields,
    HourlyBudget,
    RequestBudget,
    StatusPicklist,
)
from ._setup import AsyncOptions, SyncOptions
from .client import (
    AsyncAutotaskClient,
    AsyncAutotaskMilestones,
    AsyncContractMilestones,
    AutotaskClient,
    AutotaskMilestones,
    ContractMilestones,
    QueryOptions,
    ViewOptions,
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
    "SHARED_METADATA",
    "AsyncAutotaskClient",
    "AsyncAutotaskMilestones",
    "AsyncContractMilestones",
    "AsyncOptions",
    "AutotaskClient",
    "AutotaskMilestones",
    "ContractMilestone",
    "ContractMilestoneCreateFields",
    "ContractMilestoneUpdateFields",
    "ContractMilestones",
    "EntityInformation",
    "F",
    "FieldInformation",
    "HourlyBudget",
    "MetadataCache",
    "PicklistValue",
    "Query",
    "QueryOptions",
    "RequestBudget",
    "StatusPicklist",
    "SyncOptions",
    "ThresholdInformation",
    "ViewOptions",
    "ZoneInformation",
    "adapter",
]
