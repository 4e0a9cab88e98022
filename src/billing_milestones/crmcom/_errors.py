"""crm.com's errors: how its error bodies read, and its own error (a subclass of the shared ones, so
existing ``except`` clauses keep catching it)."""

from __future__ import annotations

from typing import Any

from .._http import ErrorDetail
from ..errors import ConfigError, ValidationError
from .wire import parse_error_body

__all__ = ["DraftNotFoundError", "error_detail"]


def error_detail(body: Any) -> ErrorDetail:
    """crm.com's probable error body ``{status, message, error, parameters}``; raw text otherwise."""
    parsed = parse_error_body(body)
    return ErrorDetail(parsed.messages(), parsed.field())


class DraftNotFoundError(ValidationError, ConfigError):
    """A container id that names no order draft on this client.

    crm.com has no call that reads an estimation back, so a draft exists only once ``open_draft`` estimated it;
    an unknown id is refused before any request rather than listed as no milestones (which a sync would read
    as "delete them all"). It is a ConfigError (the CLI reports the key and exits 2) and, as it always was,
    a ValidationError naming the field.
    """

    def __init__(self, container_id: str) -> None:
        message = (
            f"container {container_id!r}: no order draft with that estimation id on this client; "
            "open one first with client.milestones.open_draft(OrderDraft(...))"
        )
        ValidationError.__init__(self, message, field="container_id", value=container_id)
        self.key: str | None = "container_id"
        self.container_id = container_id
