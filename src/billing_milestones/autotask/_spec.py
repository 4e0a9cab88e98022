"""Autotask as the sync engine sees it: due dates only, short texts, no deletes, three writes in flight
(its thread limit per endpoint), the sync key as a marker in the description."""

from __future__ import annotations

from typing import Any

from .._platform_spec import PlatformSpec, TriggerRules, WriteMode
from ..model import SYNC_KEY_PATTERN, Platform, TriggerKind
from .adapter import sync_marker
from .wire import DESCRIPTION_MAX, TITLE_MAX

__all__ = ["SPEC"]


def _connect(settings: Any, http_client: Any) -> Any:
    """The sync engine's client: it shares the tenant's zone and picklist with the process's other clients
    (a worker or a CLI run builds one per pair; see ``_metadata_cache``)."""
    from .._metadata_cache import SHARED_METADATA
    from .client import AutotaskClient

    return AutotaskClient(
        settings.username,
        settings.secret,
        settings.integration_code,
        base_url=settings.base_url,
        impersonation_resource_id=settings.impersonation_resource_id,
        currency=settings.currency,
        http_client=http_client,
        metadata_cache=SHARED_METADATA,
    )


SPEC = PlatformSpec(
    platform=Platform.AUTOTASK,
    label="Autotask",
    compared_fields=("title", "description", "amount", "due", "is_initial_payment"),
    triggers=TriggerRules(
        native=frozenset({TriggerKind.FIXED_DATE}),
        fixed_date_what="an Autotask milestone (dateDue is required)",
        due_field="dateDue",
    ),
    write_mode=WriteMode.PER_ITEM,
    # The description keeps room for the ``[bm:<key>]`` marker and the space before it.
    text_limits={"title": TITLE_MAX, "description": DESCRIPTION_MAX - len(sync_marker(SYNC_KEY_PATTERN)) - 1},
    has_description=True,
    has_initial_payment=True,
    can_delete=False,  # contract milestones have no DELETE
    max_in_flight=3,
    connect=_connect,
)
