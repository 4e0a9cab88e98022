"""The rows a link store keeps, the same for every backend, and the schema version they are at.

Kept apart from the backends so a caller (the planner, apply, the CLI) can read a :class:`Link` without
pulling in a database driver, and so ``links migrate`` can copy every table column by column.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["SCHEMA_VERSION", "TABLES", "Intent", "Link", "RunRecord", "now_text"]

#: v1 links; v2 desired fingerprints; v3 leases and pair versions; v4 the run history; v5 leaner indexes (open
#: intents only; on PostgreSQL no second index of a pair's links in order, which the pair's key index and a
#: sort of its few rows serve): a version 4 SDK would build the old ones again on every open.
SCHEMA_VERSION: Final = 5

#: Every table ``links migrate`` copies, with its columns in order; the first is the ordering key.
TABLES: Final[dict[str, tuple[str, ...]]] = {
    "links": (
        "pair_id",
        "sync_key",
        "source_key",
        "target_key",
        "source_fp",
        "target_fp",
        "updated_at",
        "desired_fp",
    ),
    "intents": ("id", "pair_id", "sync_key", "action", "state", "detail", "created_at", "finished_at"),
    "leases": ("pair_id", "owner", "acquired_at", "heartbeat", "expires_at"),
    "pair_versions": ("pair_id", "version"),
    "names": ("kind", "name", "value", "updated_at"),
    "runs": (
        "id",
        "pair_id",
        "worker",
        "started_at",
        "finished_at",
        "created",
        "updated",
        "deleted",
        "adopted",
        "conflicts",
        "ok",
        "error",
    ),
}


def now_text() -> str:
    """UTC now as ISO text with milliseconds: sortable as text, and the same in every backend."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class Link:
    """One linked pair of milestones. Slotted: a sync holds one for every linked pair (100,000 at once in a
    large re-sync), and a per-instance ``__dict__`` cost about 100 bytes each."""

    pair_id: str
    sync_key: str
    source_key: str
    target_key: str
    source_fp: str
    target_fp: str
    updated_at: str = ""
    #: What the target should have held at the last sync; equal now, with neither side changed, means an
    #: accepted difference (target-wins) rather than a change of the pair's settings. Empty: nothing accepted.
    desired_fp: str = ""

    @property
    def target_id(self) -> str:
        """The native id part of ``target_key`` (``platform:container/id``)."""
        return self.target_key.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Intent:
    id: int
    pair_id: str
    sync_key: str
    action: str
    state: str
    detail: str | None
    created_at: str
    finished_at: str | None


@dataclass(frozen=True)
class RunRecord:
    """One run of a pair: who ran it, when, what it wrote, and whether it ended well."""

    pair_id: str
    worker: str
    started_at: str
    finished_at: str
    created: int = 0
    updated: int = 0
    deleted: int = 0
    adopted: int = 0
    conflicts: int = 0
    ok: bool = True
    error: str | None = None
    id: int = 0

    @property
    def open(self) -> bool:
        """The run has not recorded its end: it is running, or it was lost before it could (the pair's next
        run closes such a row as failed)."""
        return not self.finished_at

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "pair": self.pair_id,
            "worker": self.worker,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "created": self.created,
            "updated": self.updated,
            "deleted": self.deleted,
            "adopted": self.adopted,
            "conflicts": self.conflicts,
            "ok": self.ok,
            "open": self.open,
            "error": self.error,
        }
