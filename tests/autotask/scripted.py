"""A scripted Autotask zone for envelope and fuzz tests: each route answers what the test says, nothing more.

The sandbox is faithful to the vendor description; these tests need a server that is not: error bodies on a
200, repeated records, endless next links, mistyped fields. Pages link to each other by ``?page=N``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx

from billing_milestones._http import dumps
from billing_milestones.autotask import AsyncAutotaskClient, AutotaskClient

from .conftest import FAST

ZONE = "https://webservices5.autotask.net/ATServicesRest/V1.0"
CID = 7
FIELDS: dict[str, Any] = {
    "fields": [
        {
            "name": "status",
            "dataType": "integer",
            "isPickList": True,
            "picklistValues": [
                {"value": "1", "label": "Not Ready to Bill", "isDefaultValue": True},
                {"value": "2", "label": "Ready to Bill", "isDefaultValue": False},
                {"value": "3", "label": "Billed", "isDefaultValue": False},
            ],
        }
    ]
}
CONTRACT: dict[str, Any] = {"item": {"id": CID, "companyID": 3, "contractType": 3, "contractName": "Fixed"}}

Answer = dict[str, Any] | tuple[int, Any] | Callable[[httpx.Request], httpx.Response]


def record(mid: int, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": mid,
        "contractID": CID,
        "title": f"M{mid}",
        "amount": 100,
        "dateDue": "2026-01-31T00:00:00",
        "status": 1,
        "isInitialPayment": False,
    }
    base.update(over)
    return base


def next_url(n: int) -> str:
    return f"{ZONE}/ContractMilestones/query/next?page={n}"


def page(items: list[dict[str, Any]], nxt: str | None = None) -> dict[str, Any]:
    return {
        "items": items,
        "pageDetails": {"count": len(items), "requestCount": 500, "prevPageUrl": None, "nextPageUrl": nxt},
    }


def chain(*pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pages of these items, each linking the next by ``?page=N``, the last linking none."""
    return [page(items, next_url(i + 1) if i + 1 < len(pages) else None) for i, items in enumerate(pages)]


class Scripted:
    """Routes -> answers. A page listing answers ``pages[N]`` for ``?page=N`` (the first query is page 0)."""

    def __init__(self, *, pages: list[Any] | None = None, **routes: Answer) -> None:
        self.pages: list[Any] = pages if pages is not None else chain([record(1), record(2)])
        self.routes: dict[str, Answer] = {"fields": FIELDS, "contract": CONTRACT, **routes}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if re.search(r"/ContractMilestones/query(/next)?$", path):
            n = int(request.url.params.get("page", "0"))
            if not 0 <= n < len(self.pages):
                return _json(404, {"Message": f"no page {n}"})
            answer: Any = self.pages[n]
        else:
            answer = self.routes[_route(request.method, path)]
        if callable(answer):
            return answer(request)  # type: ignore[no-any-return]
        status, body = answer if isinstance(answer, tuple) else (200, answer)
        return _json(status, body)

    def count(self, pattern: str) -> int:
        return sum(1 for r in self.requests if re.search(pattern, r.url.path))

    def client(self, **kwargs: Any) -> AutotaskClient:
        kwargs.setdefault("retry_policy", FAST)
        kwargs.setdefault("currency", "USD")
        transport = httpx.MockTransport(self)
        kwargs.setdefault("base_url", ZONE)
        return AutotaskClient("api@x.test", "s3cret", "CODE", http_client=httpx.Client(transport=transport), **kwargs)

    def async_client(self, **kwargs: Any) -> AsyncAutotaskClient:
        kwargs.setdefault("retry_policy", FAST)
        kwargs.setdefault("currency", "USD")
        http = httpx.AsyncClient(transport=httpx.MockTransport(self))
        kwargs.setdefault("base_url", ZONE)
        return AsyncAutotaskClient("api@x.test", "s3cret", "CODE", http_client=http, **kwargs)


def _route(method: str, path: str) -> str:
    rules = [
        ("GET", r"/entityInformation/fields$", "fields"),
        ("GET", r"/Contracts/\d+$", "contract"),
        ("GET", r"/Companies/\d+$", "company"),
        ("GET", r"/Currencies/\d+$", "currency"),
        ("POST", r"/Currencies/query$", "currencies"),
        ("GET", r"/ContractMilestones/\d+$", "get"),
        ("POST", r"/ContractMilestones/query/count$", "count"),
        ("POST", r"/Contracts/\d+/Milestones$", "create"),
        ("PATCH", r"/Contracts/\d+/Milestones$", "update"),
        ("GET", r"/ThresholdInformation$", "threshold"),
        ("GET", r"(?i)/zoneInformation$", "zone"),
    ]
    for verb, pattern, name in rules:
        if method == verb and re.search(pattern, path):
            return name
    raise AssertionError(f"unscripted request {method} {path}")


def _json(status: int, body: Any) -> httpx.Response:
    """A str is sent as is (malformed JSON on purpose); anything else with Decimals digit for digit."""
    text = body if isinstance(body, str) else dumps(body)
    return httpx.Response(status, content=text.encode(), headers={"Content-Type": "application/json"})
