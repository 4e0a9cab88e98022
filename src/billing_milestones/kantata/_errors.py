"""Kantata's error body, parsed for the shared HTTP core (an invoiced milestone's 422 gets its own class)."""

from __future__ import annotations

from typing import Any

import httpx

from .. import errors
from .._http import ErrorDetail, default_error_detail
from ..errors import MilestoneInvoicedError

__all__ = ["MilestoneInvoicedError", "error_detail", "error_hook"]


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
        legacy = body.get("error_message")
        if isinstance(legacy, list):
            return ErrorDetail([str(m) for m in legacy])
    return default_error_detail(body)


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


def refuse_invoiced(milestone_id: str, invoice_id: str | None, *, method: str, path: str) -> MilestoneInvoicedError:
    """The error raised before sending, when the client already knows the milestone is invoiced."""
    return MilestoneInvoicedError(
        f"billing milestone {milestone_id} is on invoice {invoice_id}; Kantata refuses edits and deletes of "
        "invoiced milestones (not sent)",
        field="invoice_id",
        platform="kantata",
        method=method,
        path=path,
        messages=[f"billing milestone {milestone_id} is invoiced (invoice {invoice_id})"],
    )
