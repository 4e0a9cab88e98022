"""Kantata as the sync engine sees it: stories and dates as triggers, bulk creates of 100, sync keys kept as
external references, deletes allowed (but never of an invoiced milestone)."""

from __future__ import annotations

from typing import Any

from .._platform_spec import PlatformSpec, TriggerRules, WriteMode
from ..model import Platform, TriggerKind

__all__ = ["SPEC"]


def _connect(settings: Any, http_client: Any) -> Any:
    from .client import KantataClient

    kwargs: dict[str, Any] = {"json_suffix": settings.json_suffix, "http_client": http_client}
    if settings.base_url:
        kwargs["base_url"] = settings.base_url
    return KantataClient(settings.token, **kwargs)


SPEC = PlatformSpec(
    platform=Platform.KANTATA,
    label="Kantata",
    compared_fields=("title", "amount", "due", "trigger"),
    triggers=TriggerRules(
        native=frozenset({TriggerKind.FIXED_DATE, TriggerKind.ON_COMPLETION}),
        fixed_date_what="a Kantata fixed_date milestone",
        due_field="date_to_invoice",
    ),
    write_mode=WriteMode.BULK,
    batch_size=100,  # the bulk POST takes up to 100 billing milestones
    connect=_connect,
)
