"""An in-memory Kantata OX (Mavenlink) API for billing milestones, workspaces and stories.

It follows the documented behaviour: the ``{count, meta, results, <typed maps>}`` envelope with string ids,
``page``/``per_page`` (max 200) and ``limit``/``offset`` paging, the list filters, ``include`` side-loads,
100 milestones per create, ``{errors:[{type, message, field}]}`` bodies (401 ``oauth``, 422 ``validation``),
and the invoiced lock. Where the docs are silent ([U] in the reference) it picks the likely answer:
422 validation for editing an invoiced milestone, all-or-nothing bulk creates, no ``Retry-After`` on 429
unless the RateLimit asks for one.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, Final

import httpx

from ..money import currency_exponent
from ._emulator import Emulator, Router, SandboxRequest, json_response
from ._faults import Fault, FaultKind, FaultPlan
from ._limits import RateLimit, Throttle

__all__ = ["DEMO_TOKEN", "KantataSandbox"]

Record = dict[str, Any]

_INCLUDES = frozenset({"external_references", "invoices", "story", "workspace"})
_BILLING_TYPES = ("fixed_date", "upon_completion")
_REF_STATUSES = ("successful", "pending", "failed")
_INT = re.compile(r"^-?\d+$")
_ID = re.compile(r"^\d+$")
_TZ = dt.timezone(dt.timedelta(hours=-7))
#: The one bearer token a served sandbox (``milestones sandbox serve``) accepts when ``tokens`` is not given.
DEMO_TOKEN: Final = "sandbox-kantata-token"


def _public(record: Record) -> Record:
    """A stored record without the sandbox's private bookkeeping keys."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


class _Invalid(Exception):
    """A request the real API would refuse; carries the status and the error items."""

    def __init__(self, status: int, items: list[Record]) -> None:
        super().__init__(items[0].get("message", ""))
        self.status = status
        self.items = items


def _validation(message: str, field: str) -> _Invalid:
    return _Invalid(422, [{"type": "validation", "message": message, "field": field}])


def _bad_request(message: str) -> _Invalid:
    return _Invalid(400, [{"type": "system", "message": message}])


class KantataSandbox(Emulator):
    """Kantata's API under ``/api/v1``, with and without the ``.json`` suffix.

    >>> sandbox = KantataSandbox()
    >>> ids = sandbox.seed_demo()
    >>> client = KantataClient("token", http_client=sandbox.http_client())
    """

    platform = "kantata"
    base_path = "/api/v1"

    def __init__(
        self,
        *,
        faults: FaultPlan | None = None,
        rate_limit: RateLimit | None = None,
        tokens: Iterable[str] | None = None,
        bulk_limit: int = 100,
        max_per_page: int = 200,
        default_per_page: int = 20,
    ) -> None:
        super().__init__(faults=faults, rate_limit=rate_limit)
        #: Accepted bearer tokens; None: any non-empty token in-process, only DEMO_TOKEN when served on a socket.
        self.tokens = set(tokens) if tokens is not None else None
        self.bulk_limit = bulk_limit
        self.max_per_page = max_per_page
        self.default_per_page = default_per_page
        self.workspaces: dict[str, Record] = {}
        self.stories: dict[str, Record] = {}
        self.milestones: dict[str, Record] = {}
        self.external_references: dict[str, Record] = {}
        self.invoices: dict[str, Record] = {}
        self._ids = {
            "workspaces": itertools.count(1001),
            "stories": itertools.count(5001),
            "billing_milestones": itertools.count(70001),
            "external_references": itertools.count(90001),
            "invoices": itertools.count(30001),
        }
        self._seq = itertools.count(1)
        self._epoch = dt.datetime(2026, 1, 5, 9, 0, 0, tzinfo=_TZ)
        self.router = Router()
        for collection in ("billing_milestones", "workspaces", "stories"):
            for suffix in ("", ".json"):
                self.router.add("GET", f"/{collection}{suffix}", getattr(self, f"_list_{collection}"))
                self.router.add("GET", f"/{collection}/{{id}}", getattr(self, f"_show_{collection}"))
        for suffix in ("", ".json"):
            self.router.add("POST", f"/billing_milestones{suffix}", self._create_billing_milestones)
        self.router.add("PUT", "/billing_milestones/{id}", self._update_billing_milestone)
        self.router.add("DELETE", "/billing_milestones/{id}", self._delete_billing_milestone)

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

    # -- small parsers ------------------------------------------------------------------------------
    @staticmethod
    def _strip_json(raw: str) -> str:
        return raw[: -len(".json")] if raw.endswith(".json") else raw

    @staticmethod
    def _csv_ids(request: SandboxRequest, name: str) -> list[str] | None:
        raw = request.query.get(name)
        if raw is None:
            return None
        ids = [p.strip() for p in raw.split(",") if p.strip()]
        for i in ids:
            if not _ID.match(i):
                raise _bad_request(f"{name}: {i!r} is not an integer id")
        return ids

    @staticmethod
    def _bool(request: SandboxRequest, name: str) -> bool | None:
        raw = request.query.get(name)
        if raw is None:
            return None
        if raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        raise _bad_request(f"{name}: expected true or false, got {raw!r}")

    def _includes(self, request: SandboxRequest) -> set[str]:
        raw = request.query.get("include", "")
        wanted = {p.strip() for p in raw.split(",") if p.strip()}
        unknown = wanted - _INCLUDES
        if unknown:
            raise _bad_request(f"include: {', '.join(sorted(unknown))} is not a valid include for billing milestones")
        return wanted

    def _paging(self, request: SandboxRequest) -> tuple[int, int, int, int]:
        """(offset, size, page_number, page_size); ``limit``/``offset`` win over ``page``/``per_page``."""

        def number(name: str, default: int, minimum: int) -> int:
            raw = request.query.get(name)
            if raw is None or raw == "":
                return default
            if not _INT.match(raw) or int(raw) < minimum:
                raise _bad_request(f"{name}: expected an integer >= {minimum}, got {raw!r}")
            return int(raw)

        if "limit" in request.query and "offset" in request.query:
            limit = min(number("limit", self.default_per_page, 1), self.max_per_page)
            offset = number("offset", 0, 0)
            return offset, limit, offset // limit + 1, limit
        per_page = min(number("per_page", self.default_per_page, 1), self.max_per_page)
        page = number("page", 1, 1)
        return (page - 1) * per_page, per_page, page, per_page

    def _envelope(
        self,
        key: str,
        records: list[Record],
        *,
        total: int,
        page_number: int = 1,
        page_size: int | None = None,
        maps: Mapping[str, dict[str, Record]] | None = None,
    ) -> Record:
        size = page_size or max(len(records), 1)
        body: Record = {
            "count": total,
            "meta": {
                "count": total,
                "page_count": math.ceil(total / size) if total else 0,
                "page_number": page_number,
                "page_size": size,
            },
            "results": [{"key": key, "id": r["id"]} for r in records],
            key: {r["id"]: r for r in records},
        }
        for name, mapping in (maps or {}).items():
            body.setdefault(name, {}).update(mapping)
        return body

    def _now(self) -> str:
        return (self._epoch + dt.timedelta(seconds=next(self._seq))).isoformat()

    def _next_id(self, kind: str) -> str:
        return str(next(self._ids[kind]))

    # -- rendering ----------------------------------------------------------------------------------
    def _refs_of(self, milestone_id: str) -> list[Record]:
        return [
            r
            for r in self.external_references.values()
            if r["subject_type"] == "BillingMilestone" and r["subject_id"] == int(milestone_id)
        ]

    def _render_milestones(self, records: list[Record], includes: set[str]) -> tuple[list[Record], dict[str, Any]]:
        out: list[Record] = []
        maps: dict[str, dict[str, Record]] = {}
        for record in records:
            item = _public(record)
            if "external_references" in includes:
                refs = self._refs_of(record["id"])
                item["external_reference_ids"] = [r["id"] for r in refs]
                maps.setdefault("external_references", {}).update({r["id"]: dict(r) for r in refs})
            if "invoices" in includes:
                invoice_id = record.get("invoice_id")
                item["invoice_ids"] = [invoice_id] if invoice_id else []
                if invoice_id:
                    maps.setdefault("invoices", {})[invoice_id] = self._render_invoice(invoice_id)
            if "story" in includes and record.get("story_id") in self.stories:
                maps.setdefault("stories", {})[record["story_id"]] = _public(self.stories[record["story_id"]])
            if "workspace" in includes:
                maps.setdefault("workspaces", {})[record["workspace_id"]] = dict(
                    self.workspaces[record["workspace_id"]]
                )
            out.append(item)
        for name in includes:
            target = {"story": "stories", "workspace": "workspaces"}.get(name, name)
            maps.setdefault(target, {})
        return out, maps

    def _render_invoice(self, invoice_id: str) -> Record:
        invoice = dict(self.invoices[invoice_id])
        invoice["billing_milestone_ids"] = [
            m["id"] for m in self.milestones.values() if m.get("invoice_id") == invoice_id
        ]
        return invoice

    # -- billing milestones: read -------------------------------------------------------------------
    def _list_billing_milestones(self, request: SandboxRequest) -> httpx.Response:
        includes = self._includes(request)
        records = self._filter_milestones(request)
        offset, size, page_number, page_size = self._paging(request)
        page = records[offset : offset + size]
        rendered, maps = self._render_milestones(page, includes)
        return json_response(
            200,
            self._envelope(
                "billing_milestones",
                rendered,
                total=len(records),
                page_number=page_number,
                page_size=page_size,
                maps=maps,
            ),
        )

    def _filter_milestones(self, request: SandboxRequest) -> list[Record]:
        q = request.query
        records = list(self.milestones.values())
        for name, field in (("workspace_ids", "workspace_id"), ("story_ids", "story_id"), ("only", "id")):
            ids = self._csv_ids(request, name)
            if ids is not None:
                records = [r for r in records if r.get(field) in set(ids)]
        if "date_between" in q:
            start, end = self._date_range(q["date_between"])
            records = [
                r
                for r in records
                if r.get("date_to_invoice") and start <= dt.date.fromisoformat(r["date_to_invoice"]) <= end
            ]
        has_refs = self._bool(request, "has_external_references")
        if has_refs is not None:
            records = [r for r in records if bool(self._refs_of(r["id"])) == has_refs]
        ref_filters = self._ref_filters(request)
        if ref_filters:
            records = [r for r in records if any(all(f(x) for f in ref_filters) for x in self._refs_of(r["id"]))]
        without = q.get("without_external_reference_service_name")
        if without is not None:
            records = [r for r in records if not any(x["service_name"] == without for x in self._refs_of(r["id"]))]
        order = q.get("order", "created_at:desc")
        if order not in ("created_at:asc", "created_at:desc"):
            raise _bad_request(f"order: {order!r} is not a valid order; use created_at:asc or created_at:desc")
        records.sort(key=lambda r: (r["_seq"], int(r["id"])), reverse=order.endswith(":desc"))
        return records

    @staticmethod
    def _date_range(raw: str) -> tuple[dt.date, dt.date]:
        try:
            start, end = raw.split(":")
            return dt.date.fromisoformat(start), dt.date.fromisoformat(end)
        except ValueError:
            raise _bad_request(f"date_between: expected YYYY-MM-DD:YYYY-MM-DD, got {raw!r}") from None

    def _ref_filters(self, request: SandboxRequest) -> list[Callable[[Record], bool]]:
        q = request.query
        filters: list[Callable[[Record], bool]] = []
        names = ("service_name", "service_model", "service_model_ref", "status", "external_status")
        exact = {n: q[f"external_reference_{n}"] for n in names if f"external_reference_{n}" in q}
        if exact:
            filters.append(lambda ref: all(str(ref.get(n)) == v for n, v in exact.items()))
        message = q.get("external_reference_external_message")
        if message is not None:
            filters.append(lambda x: x.get("external_message") == message)
        refs = q.get("external_reference_service_model_refs")
        if refs is not None:
            wanted = {p.strip() for p in refs.split(",") if p.strip()}
            if len(wanted) > 200:
                raise _bad_request("external_reference_service_model_refs: at most 200 ids")
            filters.append(lambda x: str(x.get("service_model_ref")) in wanted)
        return filters

    def _find_milestone(self, request: SandboxRequest) -> Record:
        ident = self._strip_json(request.params["id"])
        record = self.milestones.get(ident)
        if record is None:
            raise _Invalid(404, [{"type": "system", "message": f"BillingMilestone {ident} not found"}])
        return record

    def _single(self, record: Record, includes: set[str]) -> httpx.Response:
        rendered, maps = self._render_milestones([record], includes)
        return json_response(200, self._envelope("billing_milestones", rendered, total=1, maps=maps))

    def _show_billing_milestones(self, request: SandboxRequest) -> httpx.Response:
        return self._single(self._find_milestone(request), self._includes(request))

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

    def _validate_new(self, item: Any) -> tuple[Record, Record | None]:
        if not isinstance(item, dict):
            raise _bad_request("each billing milestone must be an object")
        workspace_id = self._check_workspace(item.get("workspace_id"))
        fields: Record = {"workspace_id": workspace_id}
        fields["title"] = self._check_title(item.get("title"))
        fields["amount_in_cents"] = self._check_cents(item.get("amount_in_cents"))
        billing_type = item.get("billing_type") or "fixed_date"  # default undocumented [U]
        fields["billing_type"] = self._check_billing_type(billing_type)
        fields["date_to_invoice"] = self._check_date(item.get("date_to_invoice"))
        fields["story_id"] = self._check_story(item.get("story_id"), workspace_id, fields["billing_type"])
        ref = self._check_reference(item.get("external_reference"))
        return fields, ref

    def _check_workspace(self, value: Any) -> str:
        if value is None or value == "":
            raise _validation("Workspace can't be blank", "workspace_id")
        ident = str(value)
        if isinstance(value, bool) or not _ID.match(ident) or ident not in self.workspaces:
            raise _validation(f"Workspace {value!r} does not exist or is not accessible", "workspace_id")
        return ident

    @staticmethod
    def _check_title(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise _validation("Title can't be blank", "title")
        return value

    @staticmethod
    def _check_cents(value: Any) -> int:
        if value is None or value == "":
            raise _validation("Amount in cents can't be blank", "amount_in_cents")
        if isinstance(value, bool | Decimal | float):
            raise _validation(f"Amount in cents must be an integer (got {value})", "amount_in_cents")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and _INT.match(value.strip()):
            return int(value.strip())
        raise _validation(f"Amount in cents is not a number (got {value!r})", "amount_in_cents")

    @staticmethod
    def _check_billing_type(value: Any) -> str:
        if value not in _BILLING_TYPES:
            raise _validation(f"Billing type {value!r} is not one of fixed_date, upon_completion", "billing_type")
        return str(value)

    @staticmethod
    def _check_date(value: Any) -> str | None:
        if value is None or value == "":
            return None
        try:
            return dt.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise _validation(f"Date to invoice {value!r} is not a valid date", "date_to_invoice") from None

    def _check_story(self, value: Any, workspace_id: str, billing_type: str) -> str | None:
        if value is None or value == "":
            if billing_type == "upon_completion":
                raise _validation("Story can't be blank when billing type is upon_completion", "story_id")
            return None
        ident = str(value)
        story = self.stories.get(ident)
        if isinstance(value, bool) or story is None or story["workspace_id"] != workspace_id:
            raise _validation(f"Story {value!r} does not exist in workspace {workspace_id}", "story_id")
        return ident

    @staticmethod
    def _check_reference(value: Any) -> Record | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise _validation("External reference must be an object", "external_reference")
        for name in ("service_name", "service_model", "service_model_ref"):
            if value.get(name) in (None, ""):
                raise _validation(f"External reference {name} can't be blank", f"external_reference.{name}")
        status = value.get("status")
        if status is not None and status not in _REF_STATUSES:
            raise _validation(f"External reference status {status!r} is not valid", "external_reference.status")
        return dict(value)

    def _insert(self, fields: Record, ref: Record | None) -> Record:
        ident = self._next_id("billing_milestones")
        now = self._now()
        workspace = self.workspaces[fields["workspace_id"]]
        record: Record = {
            "id": ident,
            "title": fields["title"],
            "amount_in_cents": fields["amount_in_cents"],
            "currency": workspace["currency"],
            "billing_type": fields["billing_type"],
            "date_to_invoice": fields["date_to_invoice"],
            "story_id": fields["story_id"],
            "workspace_id": fields["workspace_id"],
            "invoice_id": None,
            "created_at": now,
            "updated_at": now,
            "_seq": next(self._seq),
        }
        self.milestones[ident] = record
        if ref is not None:
            self._upsert_reference(ident, ref)
        return record

    def _upsert_reference(self, milestone_id: str, ref: Record) -> None:
        now = self._now()
        for existing in self._refs_of(milestone_id):
            if existing["service_name"] == ref["service_name"]:
                existing.update({k: (str(v) if k == "service_model_ref" else v) for k, v in ref.items()})
                existing["updated_at"] = now
                existing["last_synced_at"] = now
                return
        ident = self._next_id("external_references")
        self.external_references[ident] = {
            "id": ident,
            "service_name": ref["service_name"],
            "service_model": ref["service_model"],
            "service_model_ref": str(ref["service_model_ref"]),
            "status": ref.get("status") or "successful",
            "external_message": ref.get("external_message"),
            "external_link": ref.get("external_link"),
            "external_status": ref.get("external_status"),
            "locked": bool(ref.get("locked", False)),
            "subject_id": int(milestone_id),  # an integer, as documented (ids elsewhere are strings)
            "subject_type": "BillingMilestone",
            "last_synced_at": now,
            "created_at": now,
            "updated_at": now,
        }

    def _refuse_invoiced(self, record: Record, verb: str) -> None:
        if record.get("invoice_id"):
            raise _validation(
                f"Billing milestone has been invoiced (invoice {record['invoice_id']}) and cannot be {verb}",
                "invoice_id",
            )

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
        return httpx.Response(204)

    # -- workspaces and stories ---------------------------------------------------------------------
    def _list_workspaces(self, request: SandboxRequest) -> httpx.Response:
        records = sorted(self.workspaces.values(), key=lambda r: int(r["id"]))
        only = self._csv_ids(request, "only")
        if only is not None:
            records = [r for r in records if r["id"] in set(only)]
        return self._paged("workspaces", records, request)

    def _show_workspaces(self, request: SandboxRequest) -> httpx.Response:
        ident = self._strip_json(request.params["id"])
        if ident not in self.workspaces:
            raise _Invalid(404, [{"type": "system", "message": f"Workspace {ident} not found"}])
        return json_response(200, self._envelope("workspaces", [dict(self.workspaces[ident])], total=1))

    def _list_stories(self, request: SandboxRequest) -> httpx.Response:
        records = sorted(self.stories.values(), key=lambda r: r["_seq"], reverse=True)
        workspace = request.query.get("workspace_id")
        if workspace is not None:
            records = [r for r in records if r["workspace_id"] == workspace]
        only = self._csv_ids(request, "only")
        if only is not None:
            records = [r for r in records if r["id"] in set(only)]
        if self._bool(request, "completed"):
            records = [r for r in records if r["state"] == "completed"]
        if self._bool(request, "uncompleted"):
            records = [r for r in records if r["state"] != "completed"]
        return self._paged("stories", [_public(r) for r in records], request)

    def _show_stories(self, request: SandboxRequest) -> httpx.Response:
        ident = self._strip_json(request.params["id"])
        if ident not in self.stories:
            raise _Invalid(404, [{"type": "system", "message": f"Story {ident} not found"}])
        story = _public(self.stories[ident])
        return json_response(200, self._envelope("stories", [story], total=1))

    def _paged(self, key: str, records: list[Record], request: SandboxRequest) -> httpx.Response:
        offset, size, page_number, page_size = self._paging(request)
        page = [dict(r) for r in records[offset : offset + size]]
        return json_response(
            200, self._envelope(key, page, total=len(records), page_number=page_number, page_size=page_size)
        )

    # -- seeding helpers (thread-safe) --------------------------------------------------------------
    def add_workspace(
        self,
        title: str = "Project",
        *,
        currency: str = "USD",
        currency_base_unit: int | None = None,
        currency_symbol: str | None = None,
    ) -> str:
        """A workspace; ``currency_base_unit`` defaults to 10**(ISO exponent) (USD 100, JPY 1, KWD 1000)."""
        with self.lock:
            ident = self._next_id("workspaces")
            now = self._now()
            base_unit = currency_base_unit if currency_base_unit is not None else 10 ** currency_exponent(currency)
            self.workspaces[ident] = {
                "id": ident,
                "title": title,
                "currency": currency.upper(),
                "currency_base_unit": base_unit,
                "currency_symbol": currency_symbol or currency.upper(),
                "created_at": now,
                "updated_at": now,
            }
            return ident

    def add_story(self, workspace_id: str, title: str = "Task", *, state: str = "not started") -> str:
        with self.lock:
            if workspace_id not in self.workspaces:
                raise KeyError(f"no workspace {workspace_id}")
            ident = self._next_id("stories")
            now = self._now()
            self.stories[ident] = {
                "id": ident,
                "title": title,
                "state": state,
                "story_type": "task",
                "workspace_id": workspace_id,
                "parent_id": None,
                "created_at": now,
                "updated_at": now,
                "_seq": next(self._seq),
            }
            return ident

    def complete_story(self, story_id: str) -> None:
        """Mark a story completed, which makes its ``upon_completion`` milestones billable."""
        with self.lock:
            self.stories[story_id]["state"] = "completed"
            self.stories[story_id]["updated_at"] = self._now()

    def add_milestone(
        self,
        workspace_id: str,
        title: str = "Milestone",
        amount_in_cents: int = 0,
        *,
        date_to_invoice: dt.date | str | None = None,
        billing_type: str = "fixed_date",
        story_id: str | None = None,
        external_reference: Mapping[str, Any] | None = None,
    ) -> str:
        """Insert a milestone with the same validation as the API (raises ValueError when it would refuse)."""
        item = {
            "workspace_id": workspace_id,
            "title": title,
            "amount_in_cents": amount_in_cents,
            "date_to_invoice": date_to_invoice.isoformat() if isinstance(date_to_invoice, dt.date) else date_to_invoice,
            "billing_type": billing_type,
            "story_id": story_id,
            "external_reference": dict(external_reference) if external_reference is not None else None,
        }
        with self.lock:
            try:
                fields, ref = self._validate_new(item)
            except _Invalid as exc:
                raise ValueError(f"sandbox would refuse this milestone: {exc.items}") from None
            return str(self._insert(fields, ref)["id"])

    def invoice(self, milestone_id: str, *, draft: bool = False) -> str:
        """Put a milestone on a new invoice, which locks it against edits and deletes."""
        with self.lock:
            milestone = self.milestones[milestone_id]
            workspace = self.workspaces[milestone["workspace_id"]]
            ident = self._next_id("invoices")
            now = self._now()
            self.invoices[ident] = {
                "id": ident,
                "status": "new",
                "draft": draft,
                "currency": workspace["currency"],
                "currency_base_unit": workspace["currency_base_unit"],
                "currency_symbol": workspace["currency_symbol"],
                "balance_in_cents": milestone["amount_in_cents"],
                "created_at": now,
                "updated_at": now,
            }
            milestone["invoice_id"] = ident
            milestone["updated_at"] = now
            return ident

    def milestone(self, milestone_id: str) -> Record:
        """The stored milestone as the API would return it (without side-loads)."""
        with self.lock:
            return _public(self.milestones[milestone_id])

    def seed_demo(self) -> dict[str, Any]:
        """Three workspaces (USD, JPY, KWD) with stories and milestones, one invoiced, one story completed."""
        usd = self.add_workspace("Website relaunch", currency="USD")
        jpy = self.add_workspace("Tokyo rollout", currency="JPY")
        kwd = self.add_workspace("Kuwait ERP", currency="KWD")
        design = self.add_story(usd, "Design sign-off")
        build = self.add_story(usd, "Build")
        localise = self.add_story(jpy, "Localisation")
        go_live = self.add_story(kwd, "Go-live")
        self.complete_story(design)
        milestones = {
            "usd_deposit": self.add_milestone(usd, "Deposit", 500000, date_to_invoice="2026-02-01"),
            "usd_design": self.add_milestone(
                usd, "Design approved", 1250050, billing_type="upon_completion", story_id=design
            ),
            "usd_build": self.add_milestone(
                usd, "Build complete", 2000000, billing_type="upon_completion", story_id=build
            ),
            "usd_credit": self.add_milestone(usd, "Goodwill credit", -10000, date_to_invoice="2026-04-01"),
            "jpy_kickoff": self.add_milestone(jpy, "Kick-off", 1500000, date_to_invoice="2026-03-01"),
            "jpy_localise": self.add_milestone(
                jpy, "Localisation done", 2750000, billing_type="upon_completion", story_id=localise
            ),
            "kwd_license": self.add_milestone(kwd, "Licences", 12345678, date_to_invoice="2026-02-15"),
            "kwd_go_live": self.add_milestone(
                kwd, "Go-live", 5000125, billing_type="upon_completion", story_id=go_live
            ),
        }
        invoice = self.invoice(milestones["usd_deposit"])
        return {
            "workspaces": {"USD": usd, "JPY": jpy, "KWD": kwd},
            "stories": {"design": design, "build": build, "localise": localise, "go_live": go_live},
            "milestones": milestones,
            "invoices": {"usd_deposit": invoice},
        }
