"""make_request builds the request httpx's build_request builds (URL, params, headers in order, body, timeout),
reuses a client's last header merge only while the client's headers and ours are unchanged, and leaves
everything else it would merge (cookies, client params, a base URL, a client's own build) to build_request."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import httpx
import pytest

from billing_milestones._http import _build
from billing_milestones._http._build import make_request

URL = httpx.URL("https://api.example.test/v1/billing_milestones/5")
OURS = {"User-Agent": "bm/1", "Accept": "application/json", "X-Retry-Count": "0", "Authorization": "Bearer tok-1"}
TIMEOUT = httpx.Timeout(12.0, connect=3.0)


def both(client: httpx.Client, **changes: Any) -> tuple[httpx.Request, httpx.Request]:
    kwargs: dict[str, Any] = {"params": None, "headers": OURS, "content": None, "timeout": TIMEOUT, **changes}
    url = kwargs.pop("url", URL)
    method = kwargs.pop("method", "GET")
    return make_request(client, method, url, **kwargs), client.build_request(method, url, **kwargs)


def assert_same(ours: httpx.Request, theirs: httpx.Request) -> None:
    assert ours.method == theirs.method and ours.url == theirs.url
    assert ours.headers.raw == theirs.headers.raw  # names, values and order
    assert ours.read() == theirs.read() and ours.extensions == theirs.extensions


CASES: list[dict[str, Any]] = [
    {},
    {"params": {"include": "workspace,story", "page": "2"}},
    {"method": "POST", "content": b'{"a":1}', "headers": {**OURS, "Content-Type": "application/json"}},
    {"headers": {**OURS, "accept": "text/plain", "x-extra": "1"}},  # replaces a client default, any case
    {"timeout": httpx.Timeout(None)},
]


@pytest.mark.parametrize("changes", CASES)
def test_the_request_is_the_one_build_request_makes(changes: dict[str, Any]) -> None:
    with httpx.Client(headers={"X-Client": "c"}) as client:
        for _ in range(2):  # the first build merges, the second reuses the merge
            assert_same(*both(client, **changes))


def test_a_merge_is_reused_while_both_header_sets_stay_the_same() -> None:
    with httpx.Client() as client:
        both(client)
        merged = _build._MERGED[client][2]
        both(client)
        assert _build._MERGED[client][2] is merged
        both(client, headers={**OURS, "Authorization": "Bearer tok-2"})  # a renewed token
        assert _build._MERGED[client][2] is not merged


def test_a_change_to_either_header_set_is_sent() -> None:
    with httpx.Client() as client:
        both(client)
        client.headers["X-Later"] = "set after the first request"
        ours, theirs = both(client)
        assert ours.headers["x-later"] == "set after the first request"
        assert_same(ours, theirs)
        ours, theirs = both(client, headers={**OURS, "Authorization": "Bearer tok-2", "X-Retry-Count": "1"})
        assert ours.headers["authorization"] == "Bearer tok-2" and ours.headers["x-retry-count"] == "1"
        assert_same(ours, theirs)


def test_a_request_changing_its_headers_leaves_the_next_one_alone() -> None:
    with httpx.Client() as client:
        first, _ = both(client)
        first.headers["X-Mine"] = "only on the first"
        second, theirs = both(client)
        assert "x-mine" not in second.headers
        assert_same(second, theirs)


def test_cookies_client_params_and_a_base_url_are_merged_as_build_request_merges_them() -> None:
    with httpx.Client(cookies={"session": "s1"}) as client:
        ours, theirs = both(client)
        assert ours.headers["cookie"] == "session=s1"
        assert_same(ours, theirs)
    with httpx.Client(params={"api_key_hint": "x"}) as client:
        ours, theirs = both(client, params={"page": "1"})
        assert ours.url.params["api_key_hint"] == "x" and ours.url.params["page"] == "1"
        assert_same(ours, theirs)
    with httpx.Client(base_url="https://api.example.test/v2") as client:
        ours, theirs = both(client, url=httpx.URL("things"))
        assert str(ours.url) == "https://api.example.test/v2/things"
        assert_same(ours, theirs)


def test_a_client_that_builds_its_own_requests_keeps_doing_so() -> None:
    class Stamping(httpx.Client):
        def build_request(self, *args: Any, **kwargs: Any) -> httpx.Request:
            request = super().build_request(*args, **kwargs)
            request.headers["X-Stamped"] = "yes"
            return request

    with Stamping() as client:
        ours, _ = both(client)
        assert ours.headers["x-stamped"] == "yes"
        assert client not in _build._MERGED


def test_a_merge_is_let_go_with_its_client() -> None:
    client = httpx.Client()
    both(client)
    assert client in _build._MERGED
    gone = weakref.ref(client)
    client.close()
    del client
    gc.collect()
    # Its own client, not the table's size: another test's client freed by the same collection is no failure.
    assert gone() is None


def test_an_async_client_gets_the_same_request_as_its_build_request() -> None:
    client = httpx.AsyncClient(headers={"X-Client": "c"})
    for _ in range(2):
        ours = make_request(client, "GET", URL, params={"page": "1"}, headers=OURS, content=None, timeout=TIMEOUT)
        theirs = client.build_request("GET", URL, params={"page": "1"}, headers=OURS, content=None, timeout=TIMEOUT)
        assert_same(ours, theirs)
    assert client in _build._MERGED
    asyncio.run(client.aclose())
