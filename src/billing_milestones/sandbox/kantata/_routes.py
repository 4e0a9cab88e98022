"""The Kantata emulator's route table, pipeline hooks (auth, errors, limits) and the writes.

Bodies are ``{errors:[{type, message, field}]}`` (401 ``oauth``, 422 ``validation``); creates take up to
``bulk_limit`` milestones, all or nothing [U]; an invoiced milestone refuses edits and deletes.
"""

from __future__ import annotations

import math
from typing import Any

import httpx

from .._emulator import Router, SandboxRequest, json_response
from .._faults import Fault, FaultKind
from .._limits import Throttle
from ._reads import _Reads
from ._store import DEMO_TOKEN, Record, _bad_request, _Invalid, _validation


class _Routes(_Reads):
    """Routes every request; the read handlers come from :class:`_Reads`."""

    def _routes(self) -> Router:
        router = Router()
        for collection in ("billing_milestones", "workspaces", "stories"):
            for suffix in ("", ".json"):
                router.add("GET", f"/{collection}{suffix}", getattr(self, f"_list_{collection}"))
                router.add("GET", f"/{collection}/{{id}}", getattr(self, f"_show_{collection}"))
        for suffix in ("", ".json"):
            router.add("POST", f"/billing_milestones{suffix}", self._create_billing_milestones)
        router.add("PUT", "/billing_milestones/{id}", self._update_billing_milestone)
        router.add("DELETE", "/billing_milestones/{id}", self._delete_billing_milestone)
        return router

    # -- the HTTP side ------------------------------------------------------------------------------
    def handle(self, request: SandboxRequest) -> httpx.Response:
        if not self._authorised(request):
            return self._errors(401, [{"type": "oauth", "message": "Invalid OAuth 2 Request"}])
        try:
            return self.router.dispatch(request, not_found=self._not_found, not_allowed=self._not_allowed)
        except _Invalid as exc:
            return self._errors(exc.status, exc.items)

    def _authorised(self, request: SandboxRequest) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        accepted = self.tokens if self.tokens is not None else {DEMO_TOKEN} if request.served else None
        return accepted is None or token.strip() in accepted

    @staticmethod
    def _errors(status: int, items: list[Record]) -> httpx.Response:
        return json_response(status, {"errors": items})

    def _not_found(self, request: SandboxRequest) -> httpx.Response:
        return self._errors(404, [{"type": "system", "message": f"No route matches {request.path}"}])

    def _not_allowed(self, request: SandboxRequest) -> httpx.Response:
        return self._errors(405, [{"type": "system", "message": f"{request.method} is not allowed on {request.path}"}])

    def throttled_response(self, throttle: Throttle) -> httpx.Response:
        """Kantata documents only "429, retry after a small delay": no Retry-After unless the RateLimit asks."""
        headers = {"Retry-After": str(max(1, math.ceil(throttle.retry_after)))} if self._send_retry_after() else {}
        body = {"errors": [{"type": "system", "message": "Too many requests. Please retry after a short delay."}]}
        return json_response(429, body, headers)

    def fault_response(self, fault: Fault) -> httpx.Response:
        if fault.kind is FaultKind.RATE_LIMIT:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            body = {"errors": [{"type": "system", "message": "Too many requests. Please retry after a short delay."}]}
            return json_response(429, body, headers)
        return self._errors(fault.status or 500, [{"type": "system", "message": "injected server error"}])

    # -- billing milestones: write ------------------------------------------------------------------
    def _body(self, request: SandboxRequest) -> Any:
        try:
            return request.json()
        except ValueError:
            raise _bad_request("the request body is not valid JSON") from None

    def _create_billing_milestones(self, request: SandboxRequest) -> httpx.Response:
        includes = self._includes(request)
        body = self._body(request)
        if isinstance(body, dict) and isinstance(body.get("billing_milestones"), list):
            items = body["billing_milestones"]
            if len(items) > self.bulk_limit:
                raise _validation(
                    f"You can only create up to {self.bulk_limit} billing milestones per request (got {len(items)})",
                    "billing_milestones",
                )
        elif isinstance(body, dict) and isinstance(body.get("billing_milestone"), dict):
            items = [body["billing_milestone"]]
        else:
            raise _bad_request("expected a billing_milestone object or a billing_milestones array")
        if not items:
            raise _validation("billing_milestones must not be empty", "billing_milestones")
        cleaned = [self._validate_new(item) for item in items]  # all or nothing [U]
        created = [self._insert(fields, ref) for fields, ref in cleaned]
        rendered, maps = self._render_milestones(created, includes)
        return json_response(200, self._envelope("billing_milestones", rendered, total=len(rendered), maps=maps))

    def _update_billing_milestone(self, request: SandboxRequest) -> httpx.Response:
        includes = self._includes(request)
        record = self._find_milestone(request)
        body = self._body(request)
        if not isinstance(body, dict) or not isinstance(body.get("billing_milestone"), dict):
            raise _bad_request("expected a billing_milestone object")
        self._refuse_invoiced(record, "edited")
        item = body["billing_milestone"]
        changes: Record = {}
        if "title" in item:
            changes["title"] = self._check_title(item["title"])
        if "amount_in_cents" in item:
            changes["amount_in_cents"] = self._check_cents(item["amount_in_cents"])
        if "date_to_invoice" in item:
            changes["date_to_invoice"] = self._check_date(item["date_to_invoice"])
        billing_type = record["billing_type"]
        if "billing_type" in item:
            billing_type = changes["billing_type"] = self._check_billing_type(item["billing_type"])
        story = item["story_id"] if "story_id" in item else record.get("story_id")
        if "story_id" in item or "billing_type" in item:
            changes["story_id"] = self._check_story(story, record["workspace_id"], billing_type)
        ref = self._check_reference(item.get("external_reference"))
        # workspace_id and unknown fields are not permitted parameters: ignored, as Rails does [U]
        record.update(changes)
        if ref is not None:
            self._upsert_reference(record["id"], ref)
        record["updated_at"] = self._now()
        return self._single(record, includes)

    def _delete_billing_milestone(self, request: SandboxRequest) -> httpx.Response:
        record = self._find_milestone(request)
        self._refuse_invoiced(record, "deleted")
        del self.milestones[record["id"]]
        for ref in self._refs_of(record["id"]):
            del self.external_references[ref["id"]]
            self._indexed_refs -= 1  # the index keeps the id; _refs_of skips ids the table no longer has
        return httpx.Response(204)
