"""A link as the planner holds it when it reads the pair's links from the store itself: compact, and a
:class:`~.store.Link` again whenever someone asks for it.

A re-sync of 100,000 linked pairs held 100,000 links, each an object of eight fields and seven texts of its
own (about 600 bytes): the sync key, both keys, three fingerprints and a timestamp. As the planner reads
them it keeps the sync key of the target milestone the link points at (the same text; the target row holds
it anyway), that target row itself instead of its key's text, the three fingerprints and the timestamp
as one string of bytes (hex is two characters a byte, the time a count of milliseconds), and once its source
is planned the source row instead of the source key's text: about 160 bytes a link. A plan's action gives
its link back as an equal :class:`~.store.Link` (``action.link``), built when read.

An action whose link says nothing the action does not (its pair, sync key and both rows the action's) keeps
only the packed bytes (:func:`folded`), and the planner holds its links only in its index by source key, so
each ``Linked`` goes once its source is planned: a re-sync of 100,000 pairs in step held 100,000 of them
(8 MB) beside its actions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from itertools import chain, islice
from typing import Final

from ._rows import MilestoneRow
from .store import Link, LinkStore

__all__ = ["Linked", "folded", "linked", "read_links", "source_index", "unfolded"]

_FP_BYTES: Final = 16  # a fingerprint is 32 hex digits
_STAMP_BYTES: Final = 8
_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MS: Final = dt.timedelta(milliseconds=1)


class Linked:
    """One link, compact: reads like a :class:`~.store.Link` (the same attributes), :meth:`link` gives it."""

    __slots__ = ("_packed", "_prefix", "_source", "_target", "pair_id", "sync_key")

    pair_id: str
    sync_key: str
    #: its key in the planner's index (:func:`source_index`: the source key's text, or the id as an int
    #: after ``_prefix``), or once its source is planned the source row (whose key reads as it)
    _source: MilestoneRow | str | int
    #: what goes before an int ``_source`` to make the source key's text (one text for all the pair's links)
    _prefix: str
    #: the listed target row the target key names, else the key's text (a target not listed)
    _target: MilestoneRow | str
    #: the source, target and desired fingerprints and the timestamp: bytes (16 a fingerprint, then 8 of
    #: milliseconds since 1970 where the stamp reads back alike), else the four texts
    _packed: bytes | tuple[str, str, str, str]

    @property
    def source_key(self) -> str:
        source = self._source
        if type(source) is str:
            return source
        return self._prefix + str(source) if type(source) is int else source.text  # type: ignore[union-attr]

    @property
    def index(self) -> int | str:
        """Its key in the planner's index by source key, until its source is planned (:func:`source_index`)."""
        source = self._source
        assert type(source) is str or type(source) is int, "asked once its source was planned"
        return source

    @property
    def planned(self) -> bool:
        """Whether its source was listed (the planner handed it the source row)."""
        return type(self._source) is not str and type(self._source) is not int

    def listed(self, source: MilestoneRow) -> None:
        """Its source is listed: hold the row (its key reads as this link's source key) instead of the text."""
        self._source = source

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

    def target_in(self, targets_by_id: Mapping[str, MilestoneRow]) -> MilestoneRow | None:
        """``targets_by_id.get(self.target_id)``, the index :func:`linked` was given: the row it holds is the
        one that index gave, so once every link holds its row the planner lets the index go."""
        target = self._target
        if type(target) is str:
            return targets_by_id.get(target.rsplit("/", 1)[-1])
        return target  # type: ignore[return-value]  # a listed target row

    @property
    def source_fp(self) -> str:
        packed = self._packed
        return packed[:_FP_BYTES].hex() if isinstance(packed, bytes) else packed[0]

    @property
    def target_fp(self) -> str:
        packed = self._packed
        return packed[_FP_BYTES : 2 * _FP_BYTES].hex() if isinstance(packed, bytes) else packed[1]

    @property
    def desired_fp(self) -> str:
        packed = self._packed
        return packed[2 * _FP_BYTES : -_STAMP_BYTES].hex() if isinstance(packed, bytes) else packed[2]

    @property
    def updated_at(self) -> str:
        packed = self._packed
        if not isinstance(packed, bytes):
            return packed[3]
        ms = int.from_bytes(packed[-_STAMP_BYTES:], "big", signed=True)
        return (_EPOCH + ms * _MS).isoformat(timespec="milliseconds")

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


def read_links(
    store: LinkStore,
    pair_id: str,
    targets_by_id: Mapping[str, MilestoneRow],
    compact_from: int,
    page: int,
    source_prefix: str = "",
) -> tuple[list[Link] | list[Linked], bool, bool]:
    """The pair's links, read ``page`` at a time; whether they are compact (from ``compact_from`` links on:
    :func:`linked`, else as the store read them); whether each compact one holds its target row. Only one
    page of the store's rows (a dict and eight texts each) is held beside the compact links at a time."""
    stream = chain.from_iterable(store.link_pages(pair_id, page))
    first = list(islice(stream, compact_from))
    if len(first) < compact_from:
        return first, False, False
    compact, held = linked(chain(_drained(first), stream), targets_by_id, source_prefix)
    return compact, True, held


def source_index(text: str, prefix: str) -> int | str:
    """The key of a source key's ``text`` in the planner's index of compact links: where it is ``prefix``
    and an id of plain digits that reads back alike, the id as an int (an int of up to 18 digits takes 32
    bytes, the text it stands for 80: 5 MB at 100,000 links), else the text. Keys of distinct texts are
    distinct: every int stands for ``prefix`` and its own digits, and no int equals a text."""
    if prefix and text.startswith(prefix):
        digits = text[len(prefix) :]
        if 0 < len(digits) <= 18 and digits.isascii() and digits.isdigit() and (digits[0] != "0" or digits == "0"):
            return int(digits)
    return text


def _drained(links: list[Link]) -> Iterator[Link]:
    """``links`` in order, each let go by the list as it is handed out (none is kept beyond its packing)."""
    links.reverse()
    while links:
        yield links.pop()


def folded(link: Linked, pair_id: str, sync_key: str, source: object, target: object) -> Linked | bytes:
    """What an action keeps of ``link``: its packed bytes where :func:`unfolded` gives it back from the
    action's own values (the pair's id, the sync key and both rows the very ones the link holds), else it."""
    packed = link._packed
    if (
        type(packed) is bytes
        and link._source is source
        and link._target is target
        and link.sync_key is sync_key
        and link.pair_id == pair_id
    ):
        return packed
    return link


def unfolded(packed: bytes, pair_id: str, sync_key: str, source: MilestoneRow, target: MilestoneRow) -> Linked:
    """The link an action kept folded: the ``Linked`` :func:`folded` was given (equal, not the same object)."""
    one = Linked.__new__(Linked)
    one.pair_id = pair_id
    one.sync_key = sync_key
    one._source = source
    one._prefix = ""
    one._target = target
    one._packed = packed
    return one


def linked(
    links: Iterable[Link], targets_by_id: Mapping[str, MilestoneRow], source_prefix: str = ""
) -> tuple[list[Linked], bool]:
    """The compact form of each link, in order, and whether every one holds its target row. A link's target
    row stands for its key only where the row's key reads exactly as the link's (same platform and container,
    not only the same id); its source key is held as :func:`source_index` gives it with ``source_prefix``."""
    out = []
    held = True
    for ln in links:
        one = Linked.__new__(Linked)
        one.pair_id = ln.pair_id
        one._source = source_index(ln.source_key, source_prefix)
        one._prefix = source_prefix
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
            held = False
        one._packed = _packed(ln.source_fp, ln.target_fp, ln.desired_fp, ln.updated_at)
        out.append(one)
    return out, held


def _packed(source_fp: str, target_fp: str, desired_fp: str, stamp: str) -> bytes | tuple[str, str, str, str]:
    """The fingerprints and the stamp as bytes where each reads back as the same text (lowercase hex of 16
    bytes, the desired one possibly empty; a UTC time in milliseconds as the store writes it), else as
    they are."""
    texts = source_fp, target_fp, desired_fp, stamp
    if len(source_fp) != 2 * _FP_BYTES or len(target_fp) != 2 * _FP_BYTES or len(desired_fp) not in (0, 2 * _FP_BYTES):
        return texts
    hexes = source_fp + target_fp + desired_fp
    try:
        fps = bytes.fromhex(hexes)
        ms = (dt.datetime.fromisoformat(stamp) - _EPOCH) // _MS
    except (ValueError, TypeError):  # not hex; not a time, or one without its zone (TypeError)
        return texts
    if fps.hex() != hexes or (_EPOCH + ms * _MS).isoformat(timespec="milliseconds") != stamp:
        return texts  # capitals, spaces, another zone or precision: kept as they were written
    return fps + ms.to_bytes(_STAMP_BYTES, "big", signed=True)
