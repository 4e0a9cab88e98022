"""The Kantata emulator's read side: query parsing, the ``{count, meta, results, <typed maps>}`` envelope, side-loads.

Lists page by ``page``/``per_page`` (at most ``max_per_page``) or ``limit``/``offset``, filter as documented and
side-load ``include`` maps; a bad parameter is a 400 the way the API words it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from .._emulator import SandboxRequest, json_response
from .._table import IndexedTable
from ._store import _ID, _INCLUDES, _INT, Record, _bad_request, _Invalid, _public, _Store


class _Reads(_Store):
    """The GET handlers and what they share with the writes (envelopes, rendering, lookups)."""

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

    # -- rendering ----------------------------------------------------------------------------------
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
            if "workspace" in includes and record["workspace_id"] in self.workspaces:  # a deleted one is left out
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
        records = self._of_workspaces(self._csv_ids(request, "workspace_ids"))
        for name, field in (("workspace_ids", "workspace_id"), ("story_ids", "story_id"), ("only", "id")):
            ids = self._csv_ids(request, name)
            if ids is not None:
                wanted = set(ids)  # once, not once per record
                records = [r for r in records if r.get(field) in wanted]
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

    def _of_workspaces(self, ids: list[str] | None) -> list[Record]:
        """The records a listing filters (it sorts them after): for ``workspace_ids`` (what every listing sends)
        those the table knows to be those workspaces' plus any it cannot vouch for, else every record."""
        table = self.milestones
        found = table.holding(ids) if ids is not None and isinstance(table, IndexedTable) else None
        if found is None:
            return list(table.values())
        return [r for _, r in found]

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
        workspace = dict(self.workspaces[ident])
        maps: dict[str, dict[str, Record]] = {}
        wanted = {p.strip() for p in request.query.get("include", "").split(",")}
        if "billing_milestones" in wanted:  # documented on GET /workspaces/{id}; its other includes are ignored
            records = [r for r in self._of_workspaces([ident]) if r["workspace_id"] == ident]
            records.sort(key=lambda r: (r["_seq"], int(r["id"])))
            workspace["billing_milestone_ids"] = [r["id"] for r in records]
            maps["billing_milestones"] = {r["id"]: _public(r) for r in records}
        return json_response(200, self._envelope("workspaces", [workspace], total=1, maps=maps))

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
