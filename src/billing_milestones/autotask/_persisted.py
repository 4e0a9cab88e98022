"""A tenant's zone and status picklist in the link store (``_metadata_store``), written and read back checked.

What comes back from the store is checked as an API answer would be, never trusted: the zone must parse as a
``zoneInformation`` answer and name a trusted host (``zone_api_base``: the vendor's domain or the configured
discovery host, https kept), or credentials could be sent to wherever a tampered store points; the picklist
must be integer values with text labels. Anything else reads as a miss, and the caller asks the API, whose
answer overwrites it. A hit also goes into the in-process cache, for what is left of its TTL only.
"""

from __future__ import annotations

from typing import Any

import httpx
import pydantic

from .. import errors
from . import _operations as ops
from ._setup import SharedState
from .wire import ZoneInformation

__all__ = ["load_picklist", "load_zone", "save_picklist", "save_zone"]


def save_zone(state: SharedState, zone: ZoneInformation) -> None:
    if state.persisted is not None:
        state.persisted.save(state.zone_name, zone.model_dump(mode="json", by_alias=True))


def load_zone(state: SharedState) -> tuple[httpx.URL, ZoneInformation] | None:
    """The zone another process discovered for this user (within the TTL), checked; None: ask the API."""
    found = state.persisted.load(state.zone_name) if state.persisted is not None else None
    if found is None or not isinstance(found.data, dict):
        return None
    try:
        zone = ZoneInformation.model_validate(found.data)
        url = ops.zone_api_base(zone, state.discovery)
    except (pydantic.ValidationError, errors.BillingMilestonesError):
        return None
    if state.metadata is not None:
        state.metadata.put(state.zone_key, (url, zone), ttl=found.remaining)
    return url, zone


def save_picklist(state: SharedState, picklist: ops.StatusPicklist) -> None:
    if state.persisted is not None:
        labels = [[value, label] for value, label in picklist.labels.items()]
        state.persisted.save(state.picklist_name, {"labels": labels, "default": picklist.default})


def load_picklist(state: SharedState) -> ops.StatusPicklist | None:
    """The status picklist another process read for this tenant (within the TTL), checked; None: ask the API."""
    found = state.persisted.load(state.picklist_name) if state.persisted is not None else None
    if found is None:
        return None
    picklist = _picklist(found.data)
    if picklist is not None and state.metadata is not None:
        state.metadata.put(state.picklist_key, picklist, ttl=found.remaining)
    return picklist


def _picklist(data: Any) -> ops.StatusPicklist | None:
    if not isinstance(data, dict) or set(data) != {"labels", "default"} or not isinstance(data["labels"], list):
        return None
    labels: dict[int, str] = {}
    for entry in data["labels"]:
        if not (isinstance(entry, list) and len(entry) == 2 and _int(entry[0]) and isinstance(entry[1], str)):
            return None
        if entry[0] in labels:
            return None
        labels[entry[0]] = entry[1]
    default = data["default"]
    if not labels or not (default is None or _int(default)):
        return None
    return ops.StatusPicklist(labels, default)


def _int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
