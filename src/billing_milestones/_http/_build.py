"""Requests built exactly as ``client.build_request`` builds them, with the client's headers merged with ours
once per distinct pair instead of once per request.

httpx merges a client's default headers with a request's own on every ``build_request``: a copy of the
client's, then a case-insensitive search and replace per header of ours. For our four headers that is about
10 us, as much as the rest of the build, on every request. The merged result depends only on the client's
headers and ours, and both repeat on nearly every request a client sends, so each client keeps the last
merge (made by httpx's own code) with what it was made from, and reuses it while both are unchanged. The
request is then made as ``build_request`` makes it (same URL, params, headers, content and timeout).

Whatever else ``build_request`` would merge in takes ``build_request`` itself: cookies on the client,
client-level params, a relative URL (the client's ``base_url``), or a client class that changes how a
request is built. A reused merge is never changed: a request copies the headers it is given.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any, Final

import httpx

__all__ = ["make_request"]

#: What a request's build depends on; a client class that replaces any of them takes its own build.
_BUILD_STEPS: Final = ("build_request", "_merge_url", "_merge_headers", "_merge_cookies", "_merge_queryparams")
#: Client class -> whether it builds requests as httpx's own clients do (asked once per class).
_STOCK: dict[type, bool] = {}
#: Client -> (its headers, ours, the merge of both): one entry per live client, gone with it.
_MERGED: weakref.WeakKeyDictionary[httpx.Client | httpx.AsyncClient, tuple[Any, Any, httpx.Headers]] = (
    weakref.WeakKeyDictionary()
)


def _is_stock(cls: type) -> bool:
    stock = _STOCK.get(cls)
    if stock is None:
        stock = all(getattr(cls, step, None) is getattr(httpx.Client, step, None) for step in _BUILD_STEPS)
        _STOCK[cls] = stock
    return stock


def make_request(
    client: httpx.Client | httpx.AsyncClient,
    method: str,
    url: httpx.URL,
    *,
    params: dict[str, str] | None,
    headers: Mapping[str, str],
    content: bytes | None,
    timeout: httpx.Timeout,
) -> httpx.Request:
    """``client.build_request(method, url, params=, headers=, content=, timeout=)``, the same request."""
    if not _is_stock(type(client)) or client.params or url.is_relative_url or client.cookies:
        return client.build_request(method, url, params=params, headers=headers, content=content, timeout=timeout)
    theirs, ours = client.headers.raw, tuple(headers.items())
    last = _MERGED.get(client)
    if last is not None and last[0] == theirs and last[1] == ours:
        merged = last[2]
    else:
        merged = httpx.Headers(client.headers)  # what httpx's _merge_headers does
        merged.update(headers)
        _MERGED[client] = (theirs, ours, merged)
    return httpx.Request(
        method,
        url,
        content=content,
        params=params,
        headers=merged,
        extensions={"timeout": timeout.as_dict()},  # build_request's copy of an httpx.Timeout gives the same dict
    )
