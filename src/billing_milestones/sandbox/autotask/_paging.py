"""Autotask's page links, as the vendor shapes them: ``paging={pageSize, previousIds, nextIds}&search=<query>``.

Paging is keyset-like (records come ordered by id): ``nextIds`` holds the first id of the page a link shows,
``previousIds`` the first ids of the pages before it (``-1`` for the first page, as the real service writes),
and ``search`` the query as JSON, so a link carries everything needed to serve the page. ``prevPageUrl`` is the
same kind of link, pointing one page back: it answers on the same route as ``nextPageUrl``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

from ..._http._json import dumps
from ._query import Refusal

__all__ = ["FIRST_ID", "Paging"]

#: The "start" of the first page: every id is above it.
FIRST_ID: Final = -1


@dataclass(frozen=True)
class Paging:
    """Where one page starts (``start``), how long it is, and where the pages before it started."""

    page_size: int
    start: int = FIRST_ID
    previous: tuple[int, ...] = ()

    @classmethod
    def parse(cls, text: str | None, limit: int) -> Paging:
        """The ``paging`` parameter of a link this emulator handed out; anything else is the documented 500."""
        try:
            data = json.loads(text or "")
            size, previous, nxt = data["pageSize"], data["previousIds"], data["nextIds"]
            ids = [*previous, *nxt]
            if not (isinstance(size, int) and 1 <= size <= limit and len(nxt) == 1):
                raise ValueError(size)
            if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
                raise ValueError(ids)
        except (ValueError, KeyError, TypeError):
            raise Refusal(500, "The paging parameter is missing or invalid.") from None
        return cls(size, nxt[0], tuple(previous))

    def next_from(self, first_id: int) -> Paging:
        """The page after this one, starting at ``first_id``."""
        return Paging(self.page_size, first_id, (*self.previous, self.start))

    def back(self) -> Paging | None:
        """The page before this one (None on the first page)."""
        if not self.previous:
            return None
        return Paging(self.page_size, self.previous[-1], self.previous[:-1])

    def link(self, route: str, search: dict[str, Any]) -> str:
        """``route?paging=...&search=...``: the vendor's link shape, both values JSON, percent-encoded."""
        paging = json.dumps(
            {"pageSize": self.page_size, "previousIds": list(self.previous), "nextIds": [self.start]},
            separators=(",", ":"),
        )
        return f"{route}?paging={quote(paging, safe='')}&search={quote(dumps(search), safe='')}"

    def page_of(self, rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int | None]:
        """This page's rows (ordered by id) and the first id of the next page (None when this is the last)."""
        remaining = [r for r in rows if r["id"] >= self.start]
        page = remaining[: self.page_size]
        more = remaining[self.page_size] if len(remaining) > self.page_size else None
        return page, (int(more["id"]) if more is not None else None)
