"""What to sync: a source container, a target container, and the rules between them."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from enum import StrEnum

from ..model import MilestoneKey, Platform
from .triggers import TriggerMap

__all__ = ["SYNC_KEY_PATTERN", "ConflictPolicy", "SyncPair", "sync_key_for"]

_DIGEST_CHARS = 16
#: What every sync key looks like (for sizing the room it takes on a platform): "bm" and 16 hex digits.
SYNC_KEY_PATTERN = "bm" + "0" * _DIGEST_CHARS


class ConflictPolicy(StrEnum):
    """What to do when both sides changed since the last sync."""

    REPORT = "report"
    SOURCE_WINS = "source-wins"
    TARGET_WINS = "target-wins"


@dataclass(frozen=True)
class SyncPair:
    """One direction of a sync: every milestone of ``source`` is mirrored into ``target``.

    ``delete_missing`` removes target milestones whose linked source milestone is gone (but never all of
    them because the source listed nothing, unless ``allow_empty_source``). ``allow_drop`` lets
    a field the target cannot hold (e.g. a description on Kantata) be dropped with a recorded FieldChange
    instead of making the milestone a conflict. ``truncate`` shortens text that is too long for the target.
    """

    source: Platform
    source_container: str
    target: Platform
    target_container: str
    triggers: TriggerMap = field(default_factory=TriggerMap)
    delete_missing: bool = True
    #: An empty source read while milestones are linked looks like a failed or filtered read (a permissions
    #: change, a wrong container), so it deletes nothing unless this is set.
    allow_empty_source: bool = False
    allow_drop: bool = False
    truncate: bool = False
    #: The target container's currency when known up front (otherwise taken from its milestones).
    target_currency: str | None = None
    #: The date "today" for status decisions; None means the real date at planning time.
    today: dt.date | None = None

    @property
    def id(self) -> str:
        return f"{self.source.value}:{self.source_container}->{self.target.value}:{self.target_container}"

    def __str__(self) -> str:
        return self.id


def sync_key_for(pair: SyncPair, source_key: MilestoneKey) -> str:
    """A short key, stable per (pair, source milestone), written on the target so a crash can be recovered."""
    digest = hashlib.sha256(f"{pair.id}|{source_key}".encode()).hexdigest()
    return f"bm{digest[:_DIGEST_CHARS]}"
