"""Build platform clients from settings, and resolve containers (crm.com drafts come from the config)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from .._platforms import spec_for
from ..errors import ConfigError, ValidationError
from ..model import Platform
from ._load import resolve_view
from .config import Settings
from .links import LinkStore
from .pair import SyncPair

__all__ = ["connect", "expect_first_sync", "lend_store", "remember_draft", "resolve_container"]

_DRAFT_IDS = "crmcom-draft"
_DRAFT_SETS = "crmcom-draft-milestones"


def connect(platform: Platform, settings: Settings, *, http_client: httpx.Client | None = None) -> Any:
    """A sync client for ``platform`` from settings (its spec's factory); raises ConfigError naming anything
    missing."""
    settings.require(platform)
    factory = spec_for(platform).connect
    if factory is None:
        raise ConfigError(f"{platform.value}: no client factory in its platform spec", key=platform.value)
    return factory(settings.section(platform), http_client)


def lend_store(client: Any, store: LinkStore) -> None:
    """Let ``client`` keep its tenant metadata in the run's link store, where it has any to keep (Autotask's
    zone and status picklist: ``persist_metadata``), so the next process reads it there within the TTL
    instead of asking the API again; nothing secret is written (the keys digest no secret)."""
    persist = getattr(client, "persist_metadata", None)
    if callable(persist):
        persist(store)


def expect_first_sync(pair: SyncPair, clients: Any, store: LinkStore) -> None:
    """Before a pair's listings: when the store has never held a link of the pair (its version is 0: a first
    sync), tell the target's view that its container is probably empty, where the view can use that
    (``expect_empty``: Kantata's then reads an empty workspace, its currency and its proof of existence in
    one request instead of an empty page and the workspace). A wrong guess costs one request, never a
    milestone: the view still lists whatever the container holds."""
    if store.version(pair.id) != 0:
        return
    hint = getattr(resolve_view(clients, pair.target), "expect_empty", None)
    if callable(hint):
        hint(pair.target_container)


def resolve_container(
    client: Any, platform: Platform, container: str, settings: Settings, store: LinkStore | None = None
) -> str:
    """The container id the common view takes; a crm.com container names a draft in ``[crmcom.drafts]``.

    Every run that has a link store resolves its containers here before its first request, so this is also
    where the client is lent the store for its metadata (:func:`lend_store`).

    A crm.com draft's id (its estimation id) is what the pair and its sync keys are built on, so it must be
    the same on every run: the draft's own ``estimation_id`` when the config gives one, else the id the first
    run got, remembered in the link store.
    """
    if store is not None:
        lend_store(client, store)
    spec = spec_for(platform)
    if not spec.named_containers or spec.open_named is None:
        return container
    drafts = settings.section(platform).drafts
    key = f"{platform.value}.drafts.{container}"
    draft = drafts.get(container)
    if draft is None:
        if settings.path is None:
            raise ConfigError(f"{key}: {settings.source.missing_hint()}", key=key)
        known = ", ".join(sorted(drafts)) or "none"
        raise ConfigError(
            f"{key}: {spec.label} milestones live on an order draft; define it as [{key}] in the config "
            f"(known drafts: {known})",
            key=key,
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
    try:
        container_id: str = spec.open_named(client, fields)
    except ValidationError as exc:
        where = f"{key}.{exc.field}" if exc.field else key
        raise ConfigError(f"{where}: {exc.message}", key=where) from None
    if store is not None:
        store.remember(_DRAFT_IDS, container, container_id)
    return container_id


def remember_draft(client: Any, platform: Platform, container: str, container_id: str, store: LinkStore) -> None:
    """After writing to a crm.com draft, keep the milestone set it now holds, for ``resolve_container``."""
    if not spec_for(platform).named_containers:
        return
    milestones = client.milestones.draft(container_id).milestones
    if milestones is not None:
        store.remember(_DRAFT_SETS, container, json.dumps([m.model_dump(mode="json") for m in milestones]))
