"""What a link store needs from a database: the one interface every backend implements.

:class:`~.linkstore.LinkStore` writes its SQL once, with ``?`` placeholders and the common subset of SQLite
and PostgreSQL (``ON CONFLICT``, ``RETURNING``); a backend runs it, says how to order links, locks rows where
the database can, and supplies the clock leases are measured by.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

__all__ = ["Backend", "Row"]

Row = dict[str, Any]


class Backend(Protocol):
    """A connection to one store; every method is safe to call from several threads."""

    #: ``"sqlite"`` or ``"postgresql"``.
    kind: str
    #: The target as it may be shown (no password).
    display: str
    #: The column that orders links as they were written (``rowid`` / ``seq``).
    link_order: str
    #: Appended to a text column in ``ORDER BY``: ordered by its code points, as SQLite's ``BINARY`` does,
    #: whatever collation a PostgreSQL database was made with (``en_US`` puts ``a`` before ``B``).
    text_order: str
    #: Appended to a lease read inside a transaction: a row lock where the database has them.
    for_update: str

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        """Run one statement; the rows it returns (none for a write without RETURNING)."""
        ...

    def count(self, sql: str, args: Sequence[Any] = ()) -> int:
        """Run one write; how many rows it touched."""
        ...

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one write for each of ``rows``, their counts unneeded: on PostgreSQL pipelined, not a round trip
        each (``links migrate`` copies a whole store this way, over whatever network lies between)."""
        ...

    def batch(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """Run several writes as one transaction (all or none), their row counts unneeded: on PostgreSQL in
        one round trip to the server rather than one per statement and two more to begin and commit."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """All statements inside commit together or not at all, and other writers wait (re-entrant)."""
        ...

    def schema(self) -> AbstractContextManager[None]:
        """Create the tables if missing; held while the schema version is checked and migrated."""
        ...

    def clock(self) -> float:
        """Seconds since the epoch by the clock every holder of a lease agrees on."""
        ...

    def after_load(self, table: str) -> None:
        """After ``links migrate`` wrote ids of its own: move the id counters past them."""
        ...

    def reusable(self) -> bool:
        """Whether the connection may serve another run as it is (open, healthy, no transaction open)."""
        ...

    def close(self) -> None: ...
