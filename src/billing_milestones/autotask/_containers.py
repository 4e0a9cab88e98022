"""The container check: a contract that does not exist is an error naming it, never an empty listing.

Without a configured currency the common view reads ``Contracts/{id}`` anyway (to resolve the currency), and
``item: null`` raises NotFoundError. With ``currency=`` that read was skipped, so a mistyped contract id listed
0 milestones (a sync sourced from it planned "nothing to do"; one targeting it planned a create of every
milestone, each then refused by the server). One cheap GET per contract and client closes that: the contract
read by either path is cached per client (shared with ``with_options`` copies), so it is made at most once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

from .. import errors
from . import _operations as ops
from .query import F
from .wire import ContractMilestone

if TYPE_CHECKING:
    from .client import AsyncAutotaskClient, AutotaskClient

__all__ = ["acurrency_of_existing", "arecords_of", "currency_of_existing", "records_of"]


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


def _of_contract(record: ContractMilestone, contract_id: int) -> ContractMilestone:
    """A record the contract query returned must belong to that contract: it becomes that container's milestone
    (and, in a sync, a link or a delete), so one of another contract or of none is a listing we misread."""
    if record.contract_id != contract_id:
        raise errors.APIResponseValidationError(
            f"the query for contract {contract_id}'s milestones returned milestone {record.id} of contract "
            f"{record.contract_id!r}",
            platform=ops.PLATFORM,
            method="POST",
            path=f"{ops.ENTITY}/query",
        )
    return record


def records_of(client: AutotaskClient, contract_id: int) -> Iterator[ContractMilestone]:
    """Every milestone of the contract, each checked to belong to it."""
    for record in client.contract_milestones.query(F.eq("contractID", contract_id)):
        yield _of_contract(record, contract_id)


async def arecords_of(client: AsyncAutotaskClient, contract_id: int) -> AsyncIterator[ContractMilestone]:
    """The async twin of :func:`records_of`."""
    async for record in client.contract_milestones.query(F.eq("contractID", contract_id)):
        yield _of_contract(record, contract_id)
