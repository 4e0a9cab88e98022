"""Build platform clients from settings, and resolve containers (crm.com drafts come from the config)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from ..errors import ConfigError
from ..model import Platform
from .config import Settings
from .links import LinkStore

__all__ = ["connect", "remember_draft", "resolve_container"]

_DRAFT_IDS = "crmcom-draft"
_DRAFT_SETS = "crmcom-draft-milestones"


def connect(platform: Platform, settings: Settings, *, http_client: httpx.Client | None = None) -> Any:
    """A sync client for ``platform`` from settings; raises ConfigError naming anything missing."""
    settings.require(platform)
    if platform is Platform.KANTATA:
        from ..kantata import KantataClient

        k = settings.kantata
        assert k.token is not None
        kwargs: dict[str, Any] = {"json_suffix": k.json_suffix, "http_client": http_client}
        if k.base_url:
            kwargs["base_url"] = k.base_url
        return KantataClient(k.token, **kwargs)
    if platform is Platform.AUTOTASK:
        from ..autotask import AutotaskClient

        a = settings.autotask
        assert a.username is not None and a.secret is not None and a.integration_code is not None
        return AutotaskClient(
            a.username,
            a.secret,
            a.integration_code,
            base_url=a.base_url,
            impersonation_resource_id=a.impersonation_resource_id,
            currency=a.currency,
            http_client=http_client,
        )
    from ..crmcom import CrmComClient

    c = settings.crmcom
    kwargs = {"bearer_token": c.bearer_token, "api": c.api, "http_client": http_client}
    if c.base_url:
        kwargs["base_url"] = c.base_url
    return CrmComClient(c.api_key, **kwargs)


def resolve_container(
    client: Any, platform: Platform, container: str, settings: Settings, store: LinkStore | None = None
) -> str:
    """The container id the common view takes; a crm.com container names a draft in ``[crmcom.drafts]``.

    A crm.com draft's id (its estimation id) is what the pair and its sync keys are built on, so it must be
    the same on every run: the draft's own ``estimation_id`` when the config gives one, else the id the first
    run got, remembered in the link store.
    """
    if platform is not Platform.CRMCOM:
        return container
    from ..crmcom import OrderDraft

    draft = settings.crmcom.drafts.get(container)
    if draft is None:
        known = ", ".join(sorted(settings.crmcom.drafts)) or "none"
        raise ConfigError(
            f"crmcom.drafts.{container}: crm.com milestones live on an order draft; define it as "
            f"[crmcom.drafts.{container}] in the config (known drafts: {known})",
            key=f"crmcom.drafts.{container}",
        )
    fields = dict(draft)
    remembered = store.recall(_DRAFT_IDS, container) if store is not None else None
    if not fields.get("estimation_id") and remembered:
        fields["estimation_id"] = remembered
    written = store.recall(_DRAFT_SETS, container) if store is not None else None
    if "milestones" not in fields and written is not None:
        # The set the last sync wrote lives only in the estimate request: without it this re-estimate would
        # put the queue's defaults back on the (reusable) estimation.
        fields["milestones"] = json.loads(written)
    container_id: str = client.milestones.open_draft(OrderDraft.model_validate(fields))
    if store is not None:
        store.remember(_DRAFT_IDS, container, container_id)
    return container_id


def remember_draft(client: Any, platform: Platform, container: str, container_id: str, store: LinkStore) -> None:
    """After writing to a crm.com draft, keep the milestone set it now holds, for ``resolve_container``."""
    if platform is not Platform.CRMCOM:
        return
    milestones = client.milestones.draft(container_id).milestones
    if milestones is not None:
        store.remember(_DRAFT_SETS, container, json.dumps([m.model_dump(mode="json") for m in milestones]))
