"""Kantata's error bodies: parsed for the shared HTTP core on error statuses, and recognised on any status.

A 200 whose body is ``{"errors": [...]}`` is still an error: read as an envelope it would be an empty page,
and an empty page of a source listing makes a sync delete what it did not see. So :func:`body_error` turns
every documented error shape (``errors`` as a list, a Rails-style field map or text; the legacy
``error_message`` the official gem also checks) into a typed error whatever the status.
"""

from __future__ import annotations

from typing import Any

import httpx

from .. import errors
from .._http import ErrorDetail, default_error_detail, request_id_of, scrub
from ..errors import MilestoneInvoicedError

__all__ = ["MilestoneInvoicedError", "body_error", "error_detail", "error_hook", "is_error_body"]

#: Error ``type`` values Kantata documents, and the class each means when the status does not say.
_BY_TYPE: dict[str, type[errors.APIStatusError]] = {
    "oauth": errors.AuthenticationError,
    "validation": errors.UnprocessableEntityError,
}


def error_detail(body: Any) -> ErrorDetail:
    """``{"errors": [{"type", "message", "field"?}]}``, or the legacy ``{"error_message": ...}``."""
    if isinstance(body, dict):
        items = body.get("errors")
        if isinstance(items, list) and items:
            messages: list[str] = []
            field: str | None = None
            for item in items:
                if isinstance(item, dict):
                    text = str(item.get("message") or "").strip()
                    kind = item.get("type")
                    where = item.get("field")
                    if field is None and isinstance(where, str) and where:
                        field = where
                    prefix = f"{kind}: " if isinstance(kind, str) and kind else ""
                    suffix = f" (field {where})" if isinstance(where, str) and where else ""
                    messages.append(f"{prefix}{text}{suffix}" if text else f"{prefix}{item}{suffix}")
                elif isinstance(item, str):
                    messages.append(item)
            return ErrorDetail(messages, field)
        if isinstance(items, dict) and items:
            # Rails style: {"errors": {"title": ["can't be blank"]}}
            fields = [str(k) for k in items]
            return ErrorDetail([f"{k}: {_text(v)}" for k, v in items.items()], fields[0])
        if isinstance(items, str) and items.strip():
            return ErrorDetail([items.strip()])
        legacy = body.get("error_message")
        if isinstance(legacy, list):
            return ErrorDetail([str(m) for m in legacy])
    return default_error_detail(body)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


def is_error_body(body: Any) -> bool:
    """Whether a JSON body is one of Kantata's error shapes (non-empty ``errors`` or ``error_message``)."""
    if not isinstance(body, dict):
        return False
    return any(body.get(key) not in (None, False, "", [], {}) for key in ("errors", "error_message"))


def body_error(response: httpx.Response, body: Any, platform: str, retries_taken: int) -> errors.APIStatusError:
    """The typed error for an error body that came with a success status (the class follows its ``type``)."""
    detail = error_detail(body)
    kwargs: dict[str, Any] = {
        "platform": platform,
        "method": response.request.method,
        "path": response.request.url.path,
        "status_code": response.status_code,
        "request_id": request_id_of(response),
        "messages": [scrub(m) for m in detail.messages],
        "body": body,
        "retries_taken": retries_taken,
    }
    reason = f"HTTP {response.status_code} carried a Kantata error body; nothing in this response is used"
    if _mentions_invoice(body):
        return MilestoneInvoicedError(reason, field="invoice_id", **kwargs)
    items = body.get("errors") if isinstance(body, dict) else None
    kinds = [i.get("type") for i in items if isinstance(i, dict)] if isinstance(items, list) else []
    cls = next((_BY_TYPE[k] for k in kinds if isinstance(k, str) and k in _BY_TYPE), errors.APIStatusError)
    if cls is errors.UnprocessableEntityError:
        return errors.UnprocessableEntityError(reason, field=detail.field, **kwargs)
    return cls(reason, **kwargs)


def _mentions_invoice(body: Any) -> bool:
    if not isinstance(body, dict) or not isinstance(body.get("errors"), list):
        return False
    for item in body["errors"]:
        if isinstance(item, dict):
            if item.get("field") == "invoice_id":
                return True
            if "invoiced" in str(item.get("message", "")).lower():
                return True
    return False


def error_hook(response: httpx.Response, body: Any, kwargs: dict[str, Any]) -> errors.APIStatusError | None:
    """A 422 that talks about an invoice is the invoiced lock (status and wording undocumented: [U])."""
    if response.status_code == 422 and _mentions_invoice(body):
        return MilestoneInvoicedError(
            "HTTP 422: the billing milestone is invoiced; Kantata refuses edits and deletes",
            field="invoice_id",
            **kwargs,
        )
    return None


def refuse_invoiced(
    milestone_id: str, invoice_id: str | None, *, method: str, path: str
) -> errors.InvoicedMilestoneRefusedError:
    """The error raised before sending, when the client already knows the milestone is invoiced."""
    return errors.InvoicedMilestoneRefusedError(
        f"billing milestone {milestone_id} is on invoice {invoice_id}; Kantata refuses edits and deletes of "
        "invoiced milestones (not sent)",
        field="invoice_id",
        platform="kantata",
        method=method,
        path=path,
        messages=[f"billing milestone {milestone_id} is invoiced (invoice {invoice_id})"],
    )
