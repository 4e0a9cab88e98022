"""The Autotask emulator's milestone table: a dict of rows by id that knows each row's contract.

Every listing is a query by contract (``eq contractID``); walking every row of every contract to find one
contract's fifty was most of a query's CPU once the tenant held thousands. The table keeps the ids by the
value that filter compares (:func:`contract_key`, the filter's own reading of the row), so a query looks at
its contract's rows only, and still evaluates every filter on them.

Nothing is trusted that the table did not see: a row stored from outside as a plain dict (as a test might)
is always a candidate; a row of the table (:class:`Row`) tells it when a key that could be its contract
changes in place; any other change to the table's membership than storing one row rebuilds the index at the
next query. A filter value that cannot be looked up in a dict (no hash, or a type whose equality is not the
numbers' or the text's) makes the caller walk every row as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from ._query import comparable, field_value

__all__ = ["MilestoneTable", "Row", "contract_key"]

#: Values whose hash agrees with their equality across these types (``Decimal(5) == 5 == 5.0``, text with text).
_KEYED = (int, Decimal, str, bool, float, type(None))
_CONTRACT = {"field": "contractID"}


class _Unkeyed:
    """The bucket of rows whose contract value cannot be a dict key: candidates of every query."""


UNKEYED: Any = _Unkeyed()


def _keyed(value: Any) -> Any:
    """``value`` when it can be looked up in a dict as ``==`` finds it, else UNKEYED."""
    if not isinstance(value, _KEYED):
        return UNKEYED
    try:
        hash(value)
    except TypeError:  # a signalling NaN
        return UNKEYED
    return value


def contract_key(row: Mapping[str, Any]) -> Any:
    """What ``eq contractID`` compares for ``row`` (the filter's own reading), or UNKEYED."""
    return _keyed(comparable("contractid", field_value(_CONTRACT, row)))


def _touches_contract(keys: Iterable[Any]) -> bool:
    return any(isinstance(k, str) and k.lower() == "contractid" for k in keys)


class Row(dict[str, Any]):
    """A row of one table; a change in place to a key that could be its contract tells the table."""

    __slots__ = ("_table",)

    def __init__(self, table: MilestoneTable, fields: Mapping[str, Any]) -> None:
        super().__init__(fields)
        self._table = table

    def _moved(self, keys: Iterable[Any]) -> None:
        if _touches_contract(keys):
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


class MilestoneTable(dict[int, dict[str, Any]]):
    """Milestone rows by id, with the ids of each contract's rows (see the module's docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self._ids: dict[Any, dict[int, None]] = {}
        self._key_of: dict[int, Any] = {}
        #: True when the index may no longer match the rows: rebuilt at the next :meth:`of_contract`.
        self.stale = False

    def row(self, fields: Mapping[str, Any]) -> Row:
        """A row of this table holding ``fields`` (store it with ``table[id] = row``)."""
        return Row(self, fields)

    def __setitem__(self, mid: int, row: dict[str, Any]) -> None:
        super().__setitem__(mid, row)
        if not self.stale:
            self._unindex(mid)
            self._index(mid, row)

    def _index(self, mid: int, row: Mapping[str, Any]) -> None:
        own = isinstance(row, Row) and row._table is self
        key = contract_key(row) if own else UNKEYED
        self._ids.setdefault(key, {})[mid] = None
        self._key_of[mid] = key

    def _unindex(self, mid: int) -> None:
        if mid in self._key_of:
            del self._ids[self._key_of.pop(mid)][mid]

    def _rebuild(self) -> None:
        self._ids.clear()
        self._key_of.clear()
        for mid, row in self.items():
            self._index(mid, row)
        self.stale = False

    def of_contract(self, wanted: Any) -> list[tuple[int, dict[str, Any]]] | None:
        """(id, row) of every row ``eq contractID wanted`` could match, in no order; None when ``wanted``
        cannot be looked up (the caller walks every row)."""
        if _keyed(wanted) is UNKEYED:
            return None
        if self.stale:
            self._rebuild()
        ids = [*self._ids.get(wanted, ()), *self._ids.get(UNKEYED, ())]
        return [(mid, self[mid]) for mid in ids]

    # Every other change to which rows the table holds: rebuild the index when next asked.
    def __delitem__(self, mid: int) -> None:
        super().__delitem__(mid)
        self.stale = True

    def pop(self, *args: Any) -> Any:
        self.stale = True
        return super().pop(*args)

    def popitem(self) -> tuple[int, dict[str, Any]]:
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

    def __ior__(self, other: Any) -> MilestoneTable:  # type: ignore[override,misc]
        self.update(other)
        return self
