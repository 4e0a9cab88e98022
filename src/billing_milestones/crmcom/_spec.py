"""crm.com as the sync engine sees it: milestones on order stages, written as one whole set per estimate,
percentages allowed, no sync key (a stage holds one milestone), containers named as drafts in the config."""

from __future__ import annotations

from typing import Any

from .._platform_spec import PlatformSpec, TriggerRules, WriteMode
from ..model import Platform, TriggerKind

__all__ = ["SPEC"]


def _connect(settings: Any, http_client: Any) -> Any:
    from .client import CrmComClient

    kwargs: dict[str, Any] = {"bearer_token": settings.bearer_token, "api": settings.api, "http_client": http_client}
    if settings.base_url:
        kwargs["base_url"] = settings.base_url
    return CrmComClient(settings.api_key, **kwargs)


def _open_draft(client: Any, fields: dict[str, Any]) -> str:
    """Validate a ``[crmcom.drafts.NAME]`` table as an order draft and estimate it."""
    from pydantic import ValidationError as PydanticValidationError

    from ..errors import ValidationError
    from ._drafts import OrderDraft

    try:
        draft = OrderDraft.model_validate(fields)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValidationError(f"{first['msg']} (got {first.get('input')!r})", field=where) from None
    container_id: str = client.milestones.open_draft(draft)
    return container_id


SPEC = PlatformSpec(
    platform=Platform.CRMCOM,
    label="crm.com",
    # The title is the stage's name and the trigger is the stage: neither is ours to write.
    compared_fields=("amount", "percentage", "trigger"),
    triggers=TriggerRules(native=frozenset({TriggerKind.ON_STAGE})),
    write_mode=WriteMode.WHOLE_SET,
    needs_amount=False,
    has_due=False,
    keeps_sync_key=False,
    adopt_by_trigger=True,
    named_containers=True,
    open_named=_open_draft,
    connect=_connect,
)
