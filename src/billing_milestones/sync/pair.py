"""What to sync: a source container, a target container, and the rules between them."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

from ..errors import ValidationError
from ..model import SYNC_KEY_PATTERN, MilestoneKey, Platform
from .triggers import TriggerMap

__all__ = ["SYNC_KEY_PATTERN", "ConflictPolicy", "SyncPair", "legacy_sync_key", "sync_key_for", "sync_key_of"]

_DIGEST_CHARS = len(SYNC_KEY_PATTERN) - 2


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
    #: Remove extra target copies of one milestone (several carrying one sync key) where the platform can
    #: delete them; off, they are reported as ``duplicate`` findings.
    fix_duplicates: bool = False
    #: A plan may delete at most this share of the pair's linked milestones (0-1) ...
    max_delete_share: float = 0.5
    #: ... unless this is set: a source listing that suddenly lacks most milestones is more often a filter,
    #: a permission or a wrong container than a real mass deletion.
    allow_mass_delete: bool = False
    #: Stable names of the containers where their ids can change between runs (a crm.com draft is
    #: re-estimated under a new estimation id when the id is not configured): sync keys are built on these,
    #: so identity survives a lost link store. None: the container id is its own name.
    source_name: str | None = None
    target_name: str | None = None

    def __post_init__(self) -> None:
        share = self.max_delete_share
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            raise ValidationError(
                f"max_delete_share must be a number from 0 to 1 (a share of the linked milestones), got {share!r}",
                field="max_delete_share",
                value=share,
            )

    # Cached (the pair is frozen): the planner reads both for every milestone's sync key.
    @cached_property
    def id(self) -> str:
        """The pair as the link store keys it: both containers by id."""
        return f"{self.source.value}:{self.source_container}->{self.target.value}:{self.target_container}"

    @cached_property
    def identity(self) -> str:
        """The pair as sync keys are built on it: both containers by their stable names."""
        source = self.source_name or self.source_container
        target = self.target_name or self.target_container
        return f"{self.source.value}:{source}->{self.target.value}:{target}"

    def __str__(self) -> str:
        return self.id


def sync_key_for(pair: SyncPair, source_key: MilestoneKey, *, key_text: str | None = None) -> str:
    """A short key, stable per (pair, source milestone), written on the target so a crash can be recovered
    and a lost link store re-adopted. Built on the pair's stable identity and the source milestone's stable
    id (for crm.com, its stage within the named draft), never on an id only the link store remembers."""
    # ``key_text``: ``str(source_key)`` when the caller has it already.
    text = key_text or str(source_key)
    return sync_key_of(pair, source_key.platform, source_key.id, source_key.stable_id, text)


def sync_key_of(pair: SyncPair, platform: Platform, native_id: str, stable_id: str, key_text: str) -> str:
    """:func:`sync_key_for` from a key's parts (what the planner's rows hold), without building the key."""
    if pair.identity == pair.id and stable_id == native_id:
        return _digest(f"{pair.id}|{key_text}")
    return _digest(f"{pair.identity}|{platform.value}/{stable_id}")


def legacy_sync_key(pair: SyncPair, source_key: MilestoneKey | str) -> str:
    """The key as versions before stable names built it (pair and source key by id): still recognised on a
    target, so milestones written then are adopted rather than created again. ``source_key`` may be the
    key's text."""
    return _digest(f"{pair.id}|{source_key}")


def _digest(text: str) -> str:
    return f"bm{hashlib.sha256(text.encode()).hexdigest()[:_DIGEST_CHARS]}"
