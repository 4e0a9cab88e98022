"""The Autotask emulator's read side: records by id, the child list, queries (POST, GET and ``next``) and counts.

Every list is paged the vendor's way (``_paging``): a page of at most ``page_size`` records ordered by id, with
``nextPageUrl``/``prevPageUrl`` links that carry the query, replayed with POST.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import httpx

from ..._http._json import loads
from .._emulator import SandboxRequest, json_response
from ._paging import Paging
from ._query import Refusal as _Refusal
from ._query import comparable as _comparable
from ._query import evaluate as _evaluate
from ._query import select as _select
from ._query import validate_filter as _validate_filter
from ._store import _CONTRACT_FIELDS, _ENTITIES, _FIELD_ORDER, PAGE_SIZE, _int, _Store
from ._table import MilestoneTable


def _first(item: tuple[Any, ...]) -> Any:
    return item[0]


def _contract_filter(filters: list[Any]) -> tuple[int, Any] | None:
    """The place of a query's first top-level ``eq contractID`` item and the contract it names (as the filter
    compares it), or None."""
    for at, item in enumerate(filters):
        if item.get("op") == "eq" and not item.get("udf") and str(item.get("field", "")).lower() == "contractid":
            wanted = _comparable("contractid", item.get("value"))
            return (at, wanted) if wanted is not None and not isinstance(wanted, bool | str) else None
    return None


def _of_contract(record: Mapping[str, Any], wanted: Any) -> bool:
    """``eq contractID`` on one record, as the filter evaluates it (an int, as every stored row has, is
    compared inline by the caller: ``int == Decimal`` is exact)."""
    return bool(_comparable("contractid", record.get("contractID")) == wanted)


class _Reads(_Store):
    """The GET and query handlers; they read the tenant and never change it."""

    def _public(self, record: Mapping[str, Any], include: Iterable[str] | None = None) -> dict[str, Any]:
        return _select(record, _FIELD_ORDER, include)

    def _get(self, request: SandboxRequest) -> httpx.Response:
        mid = _int(request.params["id"])
        record = self.milestones.get(mid) if mid is not None else None
        if mid is None:
            return self._not_found(request)
        return json_response(200, {"item": self._public(record) if record else None})

    def _child_get(self, request: SandboxRequest) -> httpx.Response:
        mid = _int(request.params["id"])
        record = self.milestones.get(mid) if mid is not None else None
        if record is not None and record["contractID"] != _int(request.params["parentId"]):
            record = None
        return json_response(200, {"item": self._public(record) if record else None})

    def _child_list(self, request: SandboxRequest) -> httpx.Response:
        """Every milestone of the contract, paged like any list; its links come back to this GET route."""
        cid = _int(request.params["parentId"])
        search = {"filter": [{"op": "eq", "field": "contractID", "value": cid}]}
        paging = Paging.parse(request.query["paging"], PAGE_SIZE) if "paging" in request.query else None
        rows = [
            r for _, r in sorted(((k, r) for k, r in self.milestones.items() if r["contractID"] == cid), key=_first)
        ]
        route = f"{request.origin}{self.base_path}/Contracts/{cid}/Milestones"
        return self._paged(rows, paging or Paging(self.page_size), route, search, _FIELD_ORDER, None)

    def _get_contract(self, request: SandboxRequest) -> httpx.Response:
        cid = _int(request.params["parentId"])
        contract = self.contracts.get(cid) if cid is not None else None
        item = {k: contract.get(k) for k in _CONTRACT_FIELDS} if contract else None
        return json_response(200, {"item": item})

    def _get_company(self, request: SandboxRequest) -> httpx.Response:
        coid = _int(request.params["id"])
        if coid is None:
            return self._not_found(request)
        company = self.companies.get(coid)
        if company is None:
            return json_response(200, {"item": None})
        item = dict(company)
        if not self.multi_currency:
            item.pop("currencyID", None)
        return json_response(200, {"item": item})

    def _get_currency(self, request: SandboxRequest) -> httpx.Response:
        cuid = _int(request.params["id"])
        if not self.multi_currency or cuid is None:
            return self._not_found(request)
        row = self.currencies.get(cuid)
        return json_response(200, {"item": dict(row) if row else None})

    def _currency_query(self, request: SandboxRequest) -> httpx.Response:
        if not self.multi_currency:
            return self._not_found(request)
        return self._page(request, self._body(request), None, entity="Currencies")

    def _currency_query_next(self, request: SandboxRequest) -> httpx.Response:
        if not self.multi_currency:
            return self._not_found(request)
        return self._page(request, self._next_body(request), self._paging(request), entity="Currencies")

    def _body(self, request: SandboxRequest) -> dict[str, Any]:
        try:
            body = request.json()
        except ValueError:
            raise _Refusal(500, "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise _Refusal(500, "The request body must be a JSON object.")
        return body

    def _query_model(
        self, body: Mapping[str, Any], entity: str = "ContractMilestones"
    ) -> tuple[list[Any], int, list[str] | None]:
        lowered = {k.lower(): v for k, v in body.items()}
        filters = lowered.get("filter")
        if not isinstance(filters, list) or not filters:
            raise _Refusal(500, "A query requires at least one filter item (for example exist id).")
        fields, label = _ENTITIES[entity]
        for item in filters:
            _validate_filter(item, fields, label)
        max_records = lowered.get("maxrecords")
        if max_records is None:
            max_records = self.page_size
        if isinstance(max_records, bool) or not isinstance(max_records, int) or not 1 <= max_records <= PAGE_SIZE:
            raise _Refusal(500, f"MaxRecords must be between 1 and {PAGE_SIZE}.")
        include = lowered.get("includefields")
        if include is not None and (not isinstance(include, list) or not all(isinstance(f, str) for f in include)):
            raise _Refusal(500, "IncludeFields must be a list of field names.")
        return filters, min(max_records, self.page_size), include

    def _matches(self, filters: list[Any], entity: str = "ContractMilestones") -> list[dict[str, Any]]:
        rows = self.currencies if entity == "Currencies" else self.milestones
        found = _contract_filter(filters) if entity == "ContractMilestones" else None
        candidates = sorted(self._candidates(rows, filters, found), key=_first)
        return [r for _, r, checks in candidates if not checks or all(_evaluate(f, r) for f in checks)]

    @staticmethod
    def _candidates(
        rows: Mapping[int, dict[str, Any]], filters: list[Any], found: tuple[int, Any] | None
    ) -> Iterable[tuple[int, dict[str, Any], list[Any]]]:
        """(id, row, the filter items to evaluate on it) for every row a query must look at: all of them, or for
        a query by contract (what every listing sends) those the table knows to be that contract's, which the
        ``eq contractID`` item holds for by the table's own reading (so only the other items are evaluated),
        plus every row it cannot vouch for. A table put here from outside is walked: the rows whose contractID
        is that number."""
        if found is None:
            return [(k, r, filters) for k, r in rows.items()]
        at, contract = found
        split = rows.vouched(contract) if isinstance(rows, MilestoneTable) else None
        if split is not None:
            own, others = split
            rest = filters[:at] + filters[at + 1 :]
            return [(k, r, rest) for k, r in own] + [(k, r, filters) for k, r in others]
        return [
            (k, r, filters)
            for k, r in rows.items()
            if (v := r.get("contractID")) == contract or (type(v) is not int and _of_contract(r, contract))
        ]

    def _page(
        self,
        request: SandboxRequest,
        body: Mapping[str, Any],
        paging: Paging | None,
        *,
        entity: str = "ContractMilestones",
    ) -> httpx.Response:
        """One page of a query; without ``paging`` the first, sized by MaxRecords."""
        filters, size, include = self._query_model(body, entity)
        route = f"{request.origin}{self.base_path}/{entity}/query/next"
        page = paging if paging is not None else Paging(size)
        return self._paged(self._matches(filters, entity), page, route, dict(body), _ENTITIES[entity][0], include)

    def _paged(
        self,
        rows: list[dict[str, Any]],
        paging: Paging,
        route: str,
        search: dict[str, Any],
        order: Sequence[str],
        include: Iterable[str] | None,
    ) -> httpx.Response:
        page, next_id = paging.page_of(rows)
        back = paging.back()
        details = {
            "count": len(page),
            "requestCount": paging.page_size,
            "prevPageUrl": back.link(route, search) if back is not None else None,
            "nextPageUrl": paging.next_from(next_id).link(route, search) if next_id is not None else None,
        }
        return json_response(200, {"items": [_select(r, order, include) for r in page], "pageDetails": details})

    def _paging(self, request: SandboxRequest) -> Paging:
        return Paging.parse(request.query.get("paging"), min(PAGE_SIZE, self.page_size))

    def _next_body(self, request: SandboxRequest) -> dict[str, Any]:
        """A next (or previous) link is replayed with the query as its body; without one, its ``search``."""
        return self._body(request) if request.body.strip() else self._search(request)

    def _query(self, request: SandboxRequest) -> httpx.Response:
        return self._page(request, self._body(request), None)

    def _query_get(self, request: SandboxRequest) -> httpx.Response:
        return self._page(request, self._search(request), None)

    def _search(self, request: SandboxRequest) -> dict[str, Any]:
        try:  # read as a body is (numbers as Decimal): a float would not survive the page links' encoding
            body = loads(request.query.get("search", ""))
        except ValueError:
            raise _Refusal(500, "The search parameter is not valid JSON.") from None
        if not isinstance(body, dict):
            raise _Refusal(500, "The search parameter must be a JSON object.")
        return body

    def _query_next(self, request: SandboxRequest) -> httpx.Response:
        return self._page(request, self._next_body(request), self._paging(request))

    def _count(self, request: SandboxRequest) -> httpx.Response:
        filters, _, _ = self._query_model(self._body(request))
        return json_response(200, {"queryCount": len(self._matches(filters))})

    def _count_get(self, request: SandboxRequest) -> httpx.Response:
        filters, _, _ = self._query_model(self._search(request))
        return json_response(200, {"queryCount": len(self._matches(filters))})
