"""An emulator's table of records by id that knows which ids hold each value of one field.

Every listing the clients send is filtered by its container (Autotask's ``eq contractID``, Kantata's
``workspace_ids``); walking every record of every container to find one container's fifty was most of a
listing's CPU once the store held thousands. The table keeps the ids by the value a filter compares (the
``key`` function: the filter's own reading of a record), so a listing looks at its container's records only,
and still applies every filter to them.

Nothing is trusted that the table did not see: a record stored from outside as a plain dict (as a test might)
is always a candidate; a record of the table (:class:`Row`) tells it when a key that could hold the field
changes in place; a change to which records the table holds other than storing or removing one rebuilds the
index at the next lookup. A value that cannot be looked up in a dict (no hash, or a type whose equality is not
the numbers' or the text's) is always a candidate, and a lookup for one is refused (the caller walks).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

__all__ = ["UNKEYED", "IndexedTable", "Row", "keyed"]

K = TypeVar("K")

#: Values whose hash agrees with their equality across these types (``Decimal(5) == 5 == 5.0``, text with text).
_KEYED = (int, Decimal, str, bool, float, type(None))


class _Unkeyed:
    """The bucket of records whose value cannot be a dict key: candidates of every lookup."""

    def __repr__(self) -> str:
        return "UNKEYED"


UNKEYED: Any = _Unkeyed()


def keyed(value: Any) -> Any:
    """``value`` when a dict finds it exactly as ``==`` would, else UNKEYED."""
    if type(value) is str:  # what every listing compares (ids are text): hashable, no question asked
        return value
    if not isinstance(value, _KEYED):
        return UNKEYED
    try:
        hash(value)
    except TypeError:  # a signalling NaN
        return UNKEYED
    return value


class Row(dict[str, Any]):
    """A record of one table; a change in place to a key that could hold the indexed field tells the table."""

    __slots__ = ("_table",)

    def __init__(self, table: IndexedTable[Any], fields: Mapping[str, Any]) -> None:
        super().__init__(fields)
        self._table = table

    def _moved(self, keys: Iterable[Any]) -> None:
        watched = self._table.watched
        if any(isinstance(k, str) and k.lower() == watched for k in keys):
            self._table.stale = True

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self._moved((key,))

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._moved((key,))

    def update(self, *args: Any, **kwargs: Any) -> None:
        changes = dict(*args, **kwargs)
        super().update(changes)
        self._moved(changes)

    def __ior__(self, other: Any) -> Row:  # type: ignore[override,misc]
        self.update(other)
        return self

    def setdefault(self, key: str, default: Any = None) -> Any:
        had = key in self
        value = super().setdefault(key, default)
        if not had:
            self._moved((key,))
        return value

    def pop(self, key: str, *default: Any) -> Any:
        had = key in self
        value = super().pop(key, *default)
        if had:
            self._moved((key,))
        return value

    def popitem(self) -> tuple[str, Any]:
        item = super().popitem()
        self._moved((item[0],))
        return item

    def clear(self) -> None:
        self._moved(list(self))
        super().clear()


class IndexedTable(dict[K, dict[str, Any]]):
    """Records by id, with the ids of the records of each value of one field (see the module's docstring).

    ``key`` reads that value from a record as the filter compares it (then :func:`keyed`); ``watched`` is the
    field's name in lower case: a record's key of that name, in any case, changed in place rebuilds the index.
    """

    def __init__(self, key: Callable[[Mapping[str, Any]], Any], watched: str) -> None:
        super().__init__()
        self._key = key
        self.watched = watched
        self._ids: dict[Any, dict[K, None]] = {}
        self._key_of: dict[K, Any] = {}
        #: True when the index may no longer match the records: rebuilt at the next :meth:`holding`.
        self.stale = False

    def row(self, fields: Mapping[str, Any]) -> Row:
        """A record of this table holding ``fields`` (store it with ``table[id] = row``)."""
        return Row(self, fields)

    def insert(self, ident: K, fields: Mapping[str, Any]) -> Row:
        """``table[ident] = table.row(fields)`` in one step (a bulk create stores each of its records so);
        the stored row is returned."""
        row = Row(self, fields)
        dict.__setitem__(self, ident, row)
        if not self.stale:
            if ident in self._key_of:
                self._unindex(ident)
            value = keyed(self._key(row))
            bucket = self._ids.get(value)
            if bucket is None:
                bucket = self._ids[value] = {}
            bucket[ident] = None
            self._key_of[ident] = value
        return row

    def holding(self, values: Iterable[Any]) -> list[tuple[K, dict[str, Any]]] | None:
        """(id, record) of every record whose value may be one of ``values`` (each value's own, then every
        record the table cannot vouch for), in no order and without repeats; None when a value cannot be
        looked up (the caller walks every record)."""
        wanted = list(values)
        if any(keyed(v) is UNKEYED for v in wanted):
            return None
        if self.stale:
            self._rebuild()
        ids: dict[K, None] = {}
        for value in [*wanted, UNKEYED]:
            ids.update(self._ids.get(value, {}))
        return [(ident, self[ident]) for ident in ids]

    def vouched(self, value: Any) -> tuple[list[tuple[K, dict[str, Any]]], list[tuple[K, dict[str, Any]]]] | None:
        """(id, record) of the records the table knows hold ``value`` (their own reading equals it, so a filter
        comparing that reading with ``value`` holds for each), and of those it cannot vouch for; None when
        ``value`` cannot be looked up (the caller walks every record)."""
        if keyed(value) is UNKEYED:
            return None
        if self.stale:
            self._rebuild()
        own = [(ident, self[ident]) for ident in self._ids.get(value, ())]
        return own, [(ident, self[ident]) for ident in self._ids.get(UNKEYED, ())]

    def _index(self, ident: K, record: Mapping[str, Any]) -> None:
        own = isinstance(record, Row) and record._table is self
        value = keyed(self._key(record)) if own else UNKEYED
        bucket = self._ids.get(value)
        if bucket is None:
            bucket = self._ids[value] = {}
        bucket[ident] = None
        self._key_of[ident] = value

    def _unindex(self, ident: K) -> None:
        if ident in self._key_of:
            del self._ids[self._key_of.pop(ident)][ident]

    def _rebuild(self) -> None:
        self._ids.clear()
        self._key_of.clear()
        for ident, record in self.items():
            self._index(ident, record)
        self.stale = False

    def __setitem__(self, ident: K, record: dict[str, Any]) -> None:
        super().__setitem__(ident, record)
        if not self.stale:
            if ident in self._key_of:
                self._unindex(ident)
            self._index(ident, record)

    def __delitem__(self, ident: K) -> None:
        super().__delitem__(ident)
        if not self.stale:
            self._unindex(ident)

    # Every other change to which records the table holds: rebuild the index when next asked.
    def pop(self, *args: Any) -> Any:
        self.stale = True
        return super().pop(*args)

    def popitem(self) -> tuple[K, dict[str, Any]]:
        self.stale = True
        return super().popitem()

    def clear(self) -> None:
        self.stale = True
        super().clear()

    def update(self, *args: Any, **kwargs: Any) -> None:
        self.stale = True
        super().update(*args, **kwargs)

    def setdefault(self, *args: Any) -> Any:
        self.stale = True
        return super().setdefault(*args)

    def __ior__(self, other: Any) -> IndexedTable[K]:  # type: ignore[override,misc]
        self.update(other)
        return self
