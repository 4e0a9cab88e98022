"""The Autotask emulator's milestone table: indexed by the value ``eq contractID`` compares (see ``.._table``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._table import IndexedTable
from ._query import comparable, field_value

__all__ = ["MilestoneTable", "contract_key"]

_CONTRACT = {"field": "contractID"}


def contract_key(row: Mapping[str, Any]) -> Any:
    """What ``eq contractID`` compares for ``row``: the filter's own reading (field names in any case)."""
    return comparable("contractid", field_value(_CONTRACT, row))


class MilestoneTable(IndexedTable[int]):
    """ContractMilestones by id, with each contract's ids."""

    def __init__(self) -> None:
        super().__init__(contract_key, "contractid")

    def of_contract(self, wanted: Any) -> list[tuple[int, dict[str, Any]]] | None:
        """(id, row) of every row ``eq contractID wanted`` could match, in no order; None when ``wanted``
        cannot be looked up (the caller walks every row)."""
        return self.holding([wanted])
