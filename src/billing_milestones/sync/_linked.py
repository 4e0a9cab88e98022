"""A link as the planner holds it when it reads the pair's links from the store itself: compact, and a
:class:`~.store.Link` again whenever someone asks for it.

A re-sync of 100,000 linked pairs held 100,000 links, each an object of eight fields and seven texts of its
own (about 600 bytes): the sync key, both keys, three fingerprints and a timestamp. As the planner reads
them it keeps the sync key of the target milestone the link points at (the same text; the target row holds
it anyway), that target row itself instead of its key's text, the three fingerprints as one string of bytes
(hex is two characters a byte) and equal timestamps once: about 230 bytes a link. A plan's action gives
its link back as an equal :class:`~.store.Link` (``action.link``), built when read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from ._rows import MilestoneRow, Shared
from .store import Link

__all__ = ["Linked", "linked"]

_FP_BYTES: Final = 16  # a fingerprint is 32 hex digits


class Linked:
    """One link, compact: reads like a :class:`~.store.Link` (the same attributes), :meth:`link` gives it."""

    __slots__ = ("_fps", "_target", "pair_id", "source_key", "sync_key", "updated_at")

    pair_id: str
    sync_key: str
    source_key: str
    #: the listed target row the target key names, else the key's text (a target not listed)
    _target: MilestoneRow | str
    #: the source, target and desired fingerprints: bytes where all are lowercase hex, else the texts
    _fps: bytes | tuple[str, str, str]
    updated_at: str

    @property
    def target_key(self) -> str:
        target = self._target
        return target if type(target) is str else target.text  # type: ignore[union-attr]

    @property
    def target_id(self) -> str:
        """As :attr:`Link.target_id`: the native id part of the target key."""
        target = self._target
        if type(target) is str:
            return target.rsplit("/", 1)[-1]
        return target.id  # type: ignore[union-attr,return-value]  # a listed target row has its id

    @property
    def source_fp(self) -> str:
        fps = self._fps
        return fps[:_FP_BYTES].hex() if isinstance(fps, bytes) else fps[0]

    @property
    def target_fp(self) -> str:
        fps = self._fps
        return fps[_FP_BYTES : 2 * _FP_BYTES].hex() if isinstance(fps, bytes) else fps[1]

    @property
    def desired_fp(self) -> str:
        fps = self._fps
        return fps[2 * _FP_BYTES :].hex() if isinstance(fps, bytes) else fps[2]

    def link(self) -> Link:
        """The link this stands for, equal to the one the store read."""
        return Link(
            self.pair_id,
            self.sync_key,
            self.source_key,
            self.target_key,
            self.source_fp,
            self.target_fp,
            self.updated_at,
            self.desired_fp,
        )

    def __repr__(self) -> str:
        return f"Linked({self.link()!r})"


def linked(links: Iterable[Link], targets_by_id: Mapping[str, MilestoneRow]) -> list[Linked]:
    """The compact form of each link, in order. A link's target row stands for its key only where the row's
    key reads exactly as the link's (same platform and container, not only the same id)."""
    shared = Shared()
    out = []
    for ln in links:
        one = Linked.__new__(Linked)
        one.pair_id = ln.pair_id
        one.source_key = ln.source_key
        key = ln.target_key
        t = targets_by_id.get(ln.target_id)
        if t is not None and t.text == key:
            one._target = t
            sync_key = ln.sync_key
            # the target row's own text where it carries this very key (a pair in step: always)
            one.sync_key = t.sync_key if t.sync_key is not None and t.sync_key == sync_key else sync_key
        else:
            one._target = key
            one.sync_key = ln.sync_key
        one._fps = _packed(ln.source_fp, ln.target_fp, ln.desired_fp)
        one.updated_at = shared(ln.updated_at)
        out.append(one)
    return out


def _packed(source_fp: str, target_fp: str, desired_fp: str) -> bytes | tuple[str, str, str]:
    """The three fingerprints as bytes where each reads back as the same text (lowercase hex of 16 bytes, the
    desired one possibly empty), else as they are."""
    if len(source_fp) == len(target_fp) == 2 * _FP_BYTES and len(desired_fp) in (0, 2 * _FP_BYTES):
        text = source_fp + target_fp + desired_fp
        try:
            packed = bytes.fromhex(text)
        except ValueError:
            return source_fp, target_fp, desired_fp
        if packed.hex() == text:  # fromhex also takes capitals and spaces: those stay text
            return packed
    return source_fp, target_fp, desired_fp
