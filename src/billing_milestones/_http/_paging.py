"""Guards that make a paged listing complete or an error: never a loop, never a repeat, never a silent stop.

A listing feeds the sync planner, which deletes what it does not see and creates what it sees twice, so a
server that pages in circles (a next link already followed, the same page under a fresh link, more pages than
it said it had, an item listed twice) must end the walk with :class:`PaginationError`, not with a plan.
Both runners drive one guard per walk; the guard holds no I/O.
"""

from __future__ import annotations

from typing import Any, Final

import httpx

from .. import errors
from ._request import Page, RequestSpec

__all__ = ["DEFAULT_MAX_PAGES", "PageGuard"]

#: Pages one listing may take before it is refused (a client option: ``max_pages``). 10,000 pages of 500
#: Autotask milestones is five million: far beyond any real contract, short of a server that never ends.
DEFAULT_MAX_PAGES: Final = 10_000


class PageGuard:
    """Checks one walk: call :meth:`before` with each request and :meth:`after` with each parsed page."""

    def __init__(self, platform: str, max_pages: int) -> None:
        self.platform = platform
        self.max_pages = max_pages
        self.pages = 0
        self.items = 0
        self._requests: set[str] = set()
        self._item_ids: dict[str, int] = {}
        self._counts: tuple[int | None, int | None] | None = None

    def before(self, spec: RequestSpec, url: httpx.URL | None = None) -> None:
        """Refuse a request already made in this walk, or one beyond the page ceiling."""
        identity = spec.identity()
        if identity in self._requests:
            raise errors.PaginationError(
                f"{self.platform}: the server sent a next-page link that was already followed "
                f"({spec.method} {_short(spec.path)}); the listing is incomplete"
            )
        if self.pages >= self.max_pages:
            raise errors.PaginationError(
                f"{self.platform}: stopped after {self.max_pages} pages (max_pages) and the server never "
                "said the end; raise max_pages if the container is really that large"
            )
        self._requests.add(identity)

    def after(self, page: Page[Any]) -> None:
        """Refuse a page that repeats an item, or one the server's own page or item count rules out."""
        self.pages += 1
        self.items += len(page.items)
        counts = (page.total, page.total_pages)
        if self._counts is not None and counts != self._counts:
            raise errors.PaginationError(
                f"{self.platform}: the listing changed while it was read (page {self.pages} counts "
                f"{_counted(counts)}, page 1 counted {_counted(self._counts)}); read it again"
            )
        self._counts = counts
        ids = page.item_ids or ()
        if len(set(ids)) == len(ids) and self._item_ids.keys().isdisjoint(ids):
            self._item_ids.update(dict.fromkeys(ids, self.pages))  # no repeat: every id at once
            ids = ()
        for item_id in ids:  # a repeat: find the first, to name it and where it was seen
            seen_on = self._item_ids.get(item_id)
            if seen_on is not None:
                where = "twice on one page" if seen_on == self.pages else f"on pages {seen_on} and {self.pages}"
                raise errors.PaginationError(
                    f"{self.platform}: item {item_id} was listed {where}; a page boundary moved or "
                    "the server repeats itself, so the listing cannot be trusted"
                )
            self._item_ids[item_id] = self.pages
        if page.total_pages is not None and self.pages > page.total_pages:
            raise errors.PaginationError(
                f"{self.platform}: page {self.pages} arrived although the server counts {page.total_pages} pages"
            )
        if page.total is not None and self.items > page.total:
            raise errors.PaginationError(
                f"{self.platform}: {self.items} items listed although the server counts {page.total}"
            )


def _counted(counts: tuple[int | None, int | None]) -> str:
    total, pages = counts
    return f"{'?' if total is None else total} items in {'?' if pages is None else pages} pages"


def next_link_error(spec: RequestSpec, exc: Exception) -> errors.PaginationError:
    """A next-page link that is not a URL is the server's fault: a typed error, not ``httpx.InvalidURL``."""
    return errors.PaginationError(f"the server's next-page link {_short(spec.path)!r} is not a valid URL ({exc})")


def _short(text: str) -> str:
    return text if len(text) <= 120 else text[:117] + "..."
