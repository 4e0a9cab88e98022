"""The container check: a contract that does not exist is an error naming it, never an empty listing.

Without a configured currency the common view reads ``Contracts/{id}`` anyway (to resolve the currency), and
``item: null`` raises NotFoundError. With ``currency=`` that read was skipped, so a mistyped contract id listed
0 milestones (a sync sourced from it planned "nothing to do"; one targeting it planned a create of every
milestone, each then refused by the server). One cheap GET per contract and client closes that: the contract
read by either path is cached per client (shared with ``with_options`` copies), so it is made at most once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import _operations as ops

if TYPE_CHECKING:
    from .client import AsyncAutotaskClient, AutotaskClient

__all__ = ["acurrency_of_existing", "currency_of_existing"]


def currency_of_existing(client: AutotaskClient, contract_id: int, override: str | None) -> str:
    """The contract's currency code, after making sure the contract exists (NotFoundError names it)."""
    code = client.currency_for(contract_id, override)
    seen = client._state.currencies.contracts
    if contract_id not in seen:
        seen[contract_id] = client._execute(ops.contract_operation(contract_id))
    return code


async def acurrency_of_existing(client: AsyncAutotaskClient, contract_id: int, override: str | None) -> str:
    """The async twin of :func:`currency_of_existing`."""
    code = await client.currency_for(contract_id, override)
    seen = client._state.currencies.contracts
    if contract_id not in seen:
        seen[contract_id] = await client._execute(ops.contract_operation(contract_id))
    return code
