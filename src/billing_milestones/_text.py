"""Fitting text into a platform's field: raise, or truncate and record it, never cut silently."""

from __future__ import annotations

from .errors import TranslationError
from .model import ChangeKind, FieldChange

__all__ = ["fit_text"]


def fit_text(
    name: str,
    text: str,
    limit: int,
    *,
    truncate: bool,
    changes: list[FieldChange],
    where: str,
    hint: str,
    why: str = "",
) -> str:
    """``text`` if it fits ``limit``; else a TranslationError, or (``truncate``) the cut text plus a FieldChange.

    ``where`` names the destination ("Autotask title"), ``hint`` tells the caller how to opt in to truncation,
    and ``why`` explains a limit lower than the field's own (e.g. room kept for a sync-key marker).
    """
    if len(text) <= limit:
        return text
    if not truncate:
        raise TranslationError(
            f"{name}: {len(text)} characters{why}, {where} allows {limit}; {hint}", field=name, source=text
        )
    cut = text[:limit]
    changes.append(
        FieldChange(
            field=name,
            kind=ChangeKind.TRUNCATED,
            before=text,
            after=cut,
            reason=f"{where} holds at most {limit} characters{why}",
        )
    )
    return cut
