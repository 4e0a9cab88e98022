"""crm.com's multi-step calls, written once for both clients: contact tokens and the order-draft view.

Each function or method here is a flow (see ``_http._flow``): it yields the operations it needs and gets
their results back, so ``CrmComClient`` and ``AsyncCrmComClient`` only hand it to their runner. Renewing a
contact token shortly before it expires is a runner hook (:class:`TokenHooks`), run before every request.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import SecretStr

from .._http import ClientCore, Flow, RunnerHooks
from ..errors import ConfigError, ValidationError
from ..model import Milestone, MilestoneKey, Platform
from . import _operations as ops
from ._drafts import DraftStore, OrderDraft, Write
from .adapter import milestones_from_estimate
from .rules import check_milestones
from .wire import ContactToken, OrderEstimate

__all__ = ["DraftFlows", "TokenHooks", "authenticate_contact", "refresh_contact_token"]


def authenticate_contact(
    auth: ops.AuthState, api: str, public_key: str | SecretStr, provider: str, credentials: Mapping[str, Any]
) -> Flow[ContactToken]:
    """Log a contact in (``POST /contacts/authenticate`` with the public key); later calls use its token."""
    if api != "self-service":
        raise ConfigError("contact authentication exists on the Self-Service API only", key="api")
    token: ContactToken = yield ops.authenticate_contact(public_key, provider, credentials)
    auth.store(token)
    return token


def refresh_contact_token(auth: ops.AuthState) -> Flow[ContactToken]:
    """Renew the contact token now (it also happens automatically shortly before expiry)."""
    if auth.refresh_token is None:
        raise ValidationError("no refresh token: authenticate_contact() first", field="refresh_token")
    token: ContactToken = yield ops.refresh_contact_token(auth.refresh_token)
    auth.store(token)
    return token


class TokenHooks(RunnerHooks):
    """Renew the contact token before a request once it is about to expire (under the runner's lock, so
    threads or tasks sharing a client renew it once)."""

    def __init__(self, auth: ops.AuthState) -> None:
        self.auth = auth

    def ready(self, core: ClientCore) -> bool:
        return not self.auth.needs_refresh()

    def prepare(self, core: ClientCore) -> Flow[ClientCore]:
        if self.auth.needs_refresh():  # not renewed meanwhile by whoever held the lock
            yield from refresh_contact_token(self.auth)
        return core


class DraftFlows:
    """The common view over order drafts (see ``_drafts``); the base of both views."""

    platform = Platform.CRMCOM

    def __init__(self, store: DraftStore) -> None:
        self._store = store

    def draft(self, container_id: str) -> OrderDraft:
        """The draft as it will next be sent (a copy)."""
        return self._store.get(container_id).request.model_copy(deep=True)

    def last_estimate(self, container_id: str) -> OrderEstimate:
        return self._store.get(container_id).estimate

    def close_draft(self, container_id: str) -> None:
        """Forget a draft on this client (crm.com has no call to delete an estimation)."""
        self._store.forget(container_id)

    def _open(self, draft: OrderDraft) -> Flow[str]:
        if draft.milestones is not None:
            check_milestones(draft.milestones)
        estimate: OrderEstimate = yield ops.estimate_order(draft)
        container = self._store.opened(draft, estimate)
        self._store.put(container, draft.model_copy(update={"estimation_id": container}), estimate)
        return container

    def _listing(self, container_id: str) -> Flow[builtins.list[Milestone]]:
        request = self._store.reestimate(container_id)
        estimate: OrderEstimate = yield ops.estimate_order(request)
        self._store.put(container_id, request, estimate)
        return milestones_from_estimate(estimate, container_id=container_id, sent=request.milestones)

    def _create(self, container_id: str, milestones: Sequence[Milestone]) -> Flow[builtins.list[Milestone]]:
        return self._write(self._store.plan_create(container_id, milestones))

    def _replace(self, container_id: str, milestones: Sequence[Milestone]) -> Flow[builtins.list[Milestone]]:
        return self._write(self._store.plan_replace(container_id, milestones))

    def _update(self, milestone: Milestone) -> Flow[Milestone]:
        return (yield from self._write(self._store.plan_update(milestone)))[0]

    def _delete(self, key: MilestoneKey) -> Flow[None]:
        yield from self._write(self._store.plan_delete(key))

    def _write(self, write: Write) -> Flow[builtins.list[Milestone]]:
        estimate: OrderEstimate = yield ops.estimate_order(write.request)
        self._store.record(write, estimate)
        return write.result(estimate)
