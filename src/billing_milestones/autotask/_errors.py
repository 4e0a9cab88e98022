"""How Autotask says "error": recognising error bodies, reading their messages, classifying and retrying.

Autotask says "error" in its body, not reliably in its status: business-rule failures, throttles and permission
refusals come as 500s, and an ``{"errors": [...]}`` body can come with a 200. A listing that took such a 200 for
an empty page would end early and the sync would delete what it did not see, so a 2xx whose body is an error
body is not a success here (see ``_core.AutotaskCore``): it becomes the same typed error (and gets the same
retry verdict) as any other.
"""

from __future__ import annotations

from typing import Any, Final

import httpx

from .. import errors
from .._http import ErrorDetail, default_error_detail, parse_retry_after

__all__ = [
    "PLATFORM",
    "error_body_messages",
    "error_detail",
    "error_hook",
    "is_thread_threshold",
    "retry_hook",
]

PLATFORM: Final = "autotask"
_THREAD_THRESHOLD: Final = "thread threshold"
_PERMISSION_TEXT: Final = "does not have the adequate permissions"
#: Every REST operation lives under it; a path without it is a base URL missing the version (a 404 for all).
_VERSION_SEGMENT: Final = "/v1.0/"


def _get(body: dict[str, Any], name: str) -> Any:
    """``body[name]`` in any casing (``errors``, ``Errors``): Autotask field names are case-insensitive."""
    return next((v for k, v in body.items() if isinstance(k, str) and k.lower() == name), None)


def _messages(body: Any) -> list[str]:
    out: list[str] = []
    if isinstance(body, dict):
        items = _get(body, "errors")
        if isinstance(items, list):
            for item in items:
                if isinstance(item, str):
                    out.append(item)
                elif isinstance(item, dict) and isinstance(_get(item, "message"), str):
                    out.append(_get(item, "message"))
        out.extend(v for k, v in body.items() if isinstance(k, str) and k.lower() == "message" and isinstance(v, str))
    return out


def error_body_messages(body: Any) -> list[str] | None:
    """The messages of an Autotask error body (a JSON object with a non-empty ``errors`` list), else None.

    An ``errors`` list whose entries carry no text still counts: the server said something went wrong.
    """
    if not isinstance(body, dict):
        return None
    items = _get(body, "errors")
    if not isinstance(items, list) or not items:
        return None
    return _messages({"errors": items}) or [f"{len(items)} error(s) without a message"]


def error_detail(body: Any) -> ErrorDetail:
    """Autotask's ``{"errors": [...]}`` (strings, or ``{message, field}`` items) or .NET's ``{"Message"}``."""
    messages = _messages(body)
    if not messages:
        return default_error_detail(body)
    field = None
    items = _get(body, "errors") if isinstance(body, dict) else None
    if isinstance(items, list):
        field = next(
            (_get(i, "field") for i in items if isinstance(i, dict) and isinstance(_get(i, "field"), str)), None
        )
    return ErrorDetail(messages, field)


def is_thread_threshold(body: Any) -> bool:
    return any(_THREAD_THRESHOLD in m.lower() for m in _messages(body))


def retry_hook(response: httpx.Response, body: Any) -> bool | None:
    """Thread-threshold refusals (any status) were rejected before processing: retry even a POST.
    A 500 with ``errors[]`` is a validation or business-rule failure: never retried."""
    if is_thread_threshold(body):
        return True
    if response.status_code == 500 and _messages(body):
        return False
    return None


def error_hook(response: httpx.Response, body: Any, kwargs: dict[str, Any]) -> errors.APIStatusError | None:
    """Classify by message, not status: Autotask sends throttles and permission failures as 500s (or 200s).
    A 404 on a path without ``/V1.0/`` says so: that is a misconfigured base URL, not a missing record."""
    if is_thread_threshold(body):
        return errors.RateLimitError(
            "Autotask thread threshold exceeded", retry_after=parse_retry_after(response.headers), **kwargs
        )
    if response.status_code in (200, 500) and any(_PERMISSION_TEXT in m.lower() for m in _messages(body)):
        return errors.PermissionDeniedError(
            f"Autotask refused: insufficient permissions (sent as HTTP {response.status_code})", **kwargs
        )
    if response.status_code == 404 and _VERSION_SEGMENT not in response.request.url.path.lower() + "/":
        return errors.NotFoundError(
            f"HTTP 404 Not Found: the path {response.request.url.path} lacks the API version segment /V1.0/; "
            "Autotask's REST operations live under .../ATServicesRest/V1.0/ (check base_url)",
            **kwargs,
        )
    if 200 <= response.status_code < 300:
        return errors.APIStatusError(
            f"Autotask answered HTTP {response.status_code} with an error body; nothing in it can be trusted",
            **kwargs,
        )
    return None
