"""Autotask's multi-step calls, written once for both clients, and the zone hooks their runners run.

Each function here is a flow (see ``_http._flow``): it yields the operations it needs and gets their results
back, so ``AutotaskClient`` and ``AsyncAutotaskClient`` only hand it to their runner. Every rule, cache and
error note lives here; the two clients cannot drift.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Callable, Sequence
from itertools import repeat
from typing import Any, TypeVar

import httpx

from .. import errors
from .._http import ClientCore, Flow, RunnerHooks, blocking, just
from .._listing import CheckedListing
from ..model import Milestone, MilestoneKey
from . import _operations as ops
from . import adapter
from ._page import Record
from ._persisted import load_picklist, load_zone, save_picklist, save_zone
from ._plans import created, plan_update, prepare_create, updatable
from ._read import listing_reader
from ._setup import SharedState, container_id, given_currency, key_ids
from .query import F, as_query
from .wire import ContractMilestone, ZoneInformation

__all__ = [
    "ZoneHooks",
    "contract_create",
    "contract_exists",
    "contract_update",
    "currency_for",
    "currency_of_existing",
    "status_picklist",
    "view_create",
    "view_delete",
    "view_listing",
    "view_update",
    "zone_information",
]


T = TypeVar("T")


# -- zones --------------------------------------------------------------------------------------------
class ZoneHooks(RunnerHooks):
    """Find the user's zone before the first request; after an unexpected 401, look it up again (once): the
    tenant may have moved zones. With an explicit ``base_url`` the zone is the caller's and never changes."""

    def __init__(self, state: SharedState, username: str) -> None:
        self.state = state
        self.username = username

    def ready(self, core: ClientCore) -> bool:
        return self.state.zone_url is not None and core.base_url == self.state.zone_url

    def prepare(self, core: ClientCore) -> Flow[ClientCore]:
        if self.state.zone_url is None and not (yield from self._shared_zone()):
            yield from self.discover()
        return self._at_zone(core)

    def recover(self, exc: errors.APIError, used: ClientCore, core: ClientCore) -> Flow[ClientCore | None]:
        if not isinstance(exc, errors.AuthenticationError):
            return None
        self.state.forget_cached()  # whatever moved, the next client of this tenant reads it afresh
        yield from in_store(self.state, self.state.forget_persisted)
        if self.state.explicit:
            return None
        if self.state.zone_url == used.base_url:  # nobody has looked it up again since that request
            yield from self.discover()
        return self._at_zone(core)

    def discover(self) -> Flow[None]:
        zone: ZoneInformation = yield ops.zone_operation(self.username, self.state.discovery)
        url = ops.zone_api_base(zone, self.state.discovery)  # trusted, or raises
        self._use(url, zone)
        self.state.discoveries += 1
        if self.state.metadata is not None:
            self.state.metadata.put(self.state.zone_key, (url, zone))
        yield from in_store(self.state, lambda: save_zone(self.state, zone))

    def _shared_zone(self) -> Flow[bool]:
        """The zone another client of this user found (within the cache's TTL), in this process or, through
        the link store, in another (checked as a discovered one), if any: no request."""
        metadata = self.state.metadata
        found = metadata.get(self.state.zone_key) if metadata is not None else None
        if found is None:
            found = yield from in_store(self.state, lambda: load_zone(self.state))
        if found is None:
            return False
        self._use(*found)
        return True

    def _use(self, url: httpx.URL, zone: ZoneInformation) -> None:
        self.state.zone_url, self.state.zone = url, zone

    def _at_zone(self, core: ClientCore) -> ClientCore:
        url = self.state.zone_url
        assert url is not None
        return core if core.base_url == url else core.with_options(base_url=url)


def zone_information(hooks: ZoneHooks) -> Flow[ZoneInformation]:
    """The zone the user lives in: discovered once, then cached (asked afresh with an explicit base_url)."""
    state = hooks.state
    if state.zone is None:
        if state.explicit:
            asked: ZoneInformation = yield ops.zone_operation(hooks.username, state.discovery)
            return asked
        if not (yield from hooks._shared_zone()):
            yield from hooks.discover()
    assert state.zone is not None
    return state.zone


# -- picklist and currency ---------------------------------------------------------------------------
def in_store(state: SharedState, call: Callable[[], T]) -> Flow[T | None]:
    """``call()`` on the link store's metadata tier, as a blocking step (the async client makes it in a worker
    thread: a database read or write never holds up its event loop); no step without a store (None)."""
    if state.persisted is None:
        return None
    return (yield from blocking(call))


def cached_picklist(state: SharedState) -> Flow[ops.StatusPicklist | None]:
    """The picklist this client or (within the TTL) another client of the tenant read, in this process or
    another (the link store's, checked); None: not read yet."""
    if state.picklist is None and state.metadata is not None:
        state.picklist = state.metadata.get(state.picklist_key)
    if state.picklist is None:
        state.picklist = yield from in_store(state, lambda: load_picklist(state))
    return state.picklist


def status_picklist(state: SharedState, refresh: bool = False) -> Flow[ops.StatusPicklist]:
    """The status picklist (value -> label), fetched once per client, and shared with the tenant's other
    clients through the metadata cache and its link-store tier (within the TTL). ``refresh=True`` reads it
    again for all of them."""
    cached = None if refresh else (yield from cached_picklist(state))
    if cached is not None:
        return cached
    if refresh and state.persisted is not None:
        persisted = state.persisted  # stale: no other process may read it while this one asks
        yield from in_store(state, lambda: persisted.drop(state.picklist_name))
    picklist: ops.StatusPicklist = yield ops.picklist_operation()
    state.picklist = picklist
    if state.metadata is not None:
        state.metadata.put(state.picklist_key, picklist)
    yield from in_store(state, lambda: save_picklist(state, picklist))
    return picklist


def currency_for(state: SharedState, contract_id: int, override: str | None, refresh: bool) -> Flow[str]:
    """``override``, else the client's ``currency=``, else resolved (Contracts -> Companies -> Currencies)."""
    given = given_currency(state, contract_id, override)
    if given is not None:
        return just(given)
    if refresh:
        state.currencies.by_contract.pop(container_id(contract_id), None)
    return ops.resolve_currency(contract_id, state.currencies)


def currency_of_existing(state: SharedState, contract_id: int, override: str | None) -> Flow[str]:
    """The contract's currency, after making sure the contract exists (NotFoundError names it).

    Without a configured currency the contract is read anyway; with ``currency=`` a mistyped contract id
    would list 0 milestones (a sync would plan nothing, or create everything), so it is read once per client,
    unless a listing already showed milestones of it (see :func:`contract_exists`).
    """
    code = yield from currency_for(state, contract_id, override, False)
    yield from contract_exists(state, contract_id)
    return code


def contract_exists(state: SharedState, contract_id: int) -> Flow[None]:
    """Read the contract (NotFoundError names it) unless this client knows it exists: it read it, or listed
    one of its milestones (a milestone the query returns as the contract's is the contract's proof)."""
    known = state.currencies
    if contract_id not in known.existing:
        known.contracts[contract_id] = yield ops.contract_operation(contract_id)
        known.existing.add(contract_id)


# -- native resource ---------------------------------------------------------------------------------
def contract_create(state: SharedState, contract_id: int, fields: ops.ContractMilestoneCreateFields) -> Flow[int]:
    """POST /Contracts/{id}/Milestones; ``status`` takes a value or a label."""
    body: dict[str, Any] = {"is_initial_payment": False, "description": None}
    body.update((k, v) for k, v in fields.items() if v is not None)
    ops.check_create(contract_id, body)  # before the picklist read: a bad argument sends nothing
    picklist = yield from status_picklist(state)
    op, _ = ops.create_operation(contract_id, body, picklist)
    new_id: int = yield op
    return new_id


def contract_update(
    state: SharedState,
    contract_id: int,
    milestone_id: int,
    current: ContractMilestone | None,
    changed: ops.ContractMilestoneUpdateFields,
) -> Flow[int]:
    """PATCH only ``changed``; without ``current`` the record is read first, to refuse a Billed one."""
    picklist = yield from status_picklist(state)
    record = current if current is not None else (yield ops.get_operation(milestone_id))
    op, _ = ops.update_operation(contract_id, milestone_id, dict(changed), record, picklist)
    updated: int = yield op
    return updated


# -- common view -------------------------------------------------------------------------------------
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


def _statuses_of(items: Sequence[ContractMilestone | Record]) -> set[Any]:
    """The statuses a page's items hold (a view page's items are all JSON records or all wire records)."""
    try:
        return set(map(dict.get, items, repeat("status")))  # type: ignore[arg-type]
    except TypeError:  # wire records: dict.get does not apply to them
        return {item.get("status") if isinstance(item, dict) else item.status for item in items}


def _contract_of(item: ContractMilestone | Record) -> Any:
    return item.get("contractID") if isinstance(item, dict) else item.contract_id


def view_listing(
    state: SharedState, container: str, currency: str | None
) -> Flow[CheckedListing[ContractMilestone | Record, Milestone]]:
    """The contract's milestones as common Milestones: the currency first (resolving it reads the contract),
    then the query; the picklist when a page has milestones to translate. The contract is proven by its
    listed milestones, and read (NotFoundError naming it) only when the query lists none (see ``_listing``).
    A page's items are its wire records, or its JSON records where every one is a usual record of the
    contract (``_envelopes.view_page``)."""
    cid = container_id(container)
    code = yield from currency_for(state, cid, currency, False)

    refreshed: list[bool] = []  # a cached picklist is read again once per listing at most

    def converter(
        records: Sequence[ContractMilestone | Record],
    ) -> Flow[Callable[[ContractMilestone | Record], Milestone]]:
        cached = yield from cached_picklist(state)
        picklist = cached if cached is not None else (yield from status_picklist(state))
        if cached is not None and not refreshed and not _statuses_of(records).issubset(picklist.labels):
            # A status the cached picklist lacks may be one the tenant added since another client read it
            # (a shared cache keeps it for its TTL): read it afresh before refusing the milestone by name.
            refreshed.append(True)
            picklist = yield from status_picklist(state, refresh=True)
        if any(_contract_of(r) == cid for r in records):
            state.currencies.existing.add(cid)
        return listing_reader(picklist.labels, code, lambda r: _of_contract(r, cid))

    query = ops.view_query_operation(as_query(F.eq("contractID", cid)), cid)
    return CheckedListing(query, converter, lambda: contract_exists(state, cid))


def view_create(
    state: SharedState,
    container: str,
    milestones: Sequence[Milestone],
    currency: str | None,
    truncate: bool,
    fallback_due: dt.date | None,
) -> Flow[builtins.list[Milestone]]:
    """One create after the other, in order, on both clients: every milestone is translated and checked
    before the first is sent (a bad one sends nothing), and the first failure stops the batch, its error
    noting which were created before it. (Concurrency belongs to the caller: several ``create`` calls at
    once share the client's per-endpoint limit, ``max_threads``.)"""
    cid = container_id(container)
    code = yield from currency_of_existing(state, cid, currency)
    picklist = yield from status_picklist(state)
    prepared = [prepare_create(m, cid, picklist, code, truncate, fallback_due) for m in milestones]
    done: builtins.list[Milestone] = []
    for (op, payload), translated in prepared:
        try:
            new_id = yield op
        except errors.APIError as exc:
            exc.add_note(f"created before the failure: {[str(m.key) for m in done]}")
            raise
        done.append(created(payload, new_id, translated, picklist, code))
    return done


def view_update(
    state: SharedState, milestone: Milestone, currency: str | None, truncate: bool, fallback_due: dt.date | None
) -> Flow[Milestone]:
    """PATCH what differs from ``milestone.raw`` (read first when there is no raw); Billed is locked."""
    cid, mid = updatable(milestone)
    code = yield from currency_for(state, cid, currency, False)
    picklist = yield from status_picklist(state)
    translated = adapter.to_wire_fields(
        milestone, picklist=picklist.labels, currency=code, truncate=truncate, fallback_due=fallback_due
    )
    if milestone.raw:
        current = ContractMilestone.model_validate(milestone.raw)
    else:
        current = yield ops.get_operation(mid)
    plan = plan_update(cid, mid, translated, current, picklist, code)
    if plan.op is not None:
        yield plan.op
    return plan.result


def view_delete(key: MilestoneKey) -> Flow[None]:
    """Always refused, before sending: Autotask cannot delete a contract milestone."""
    key_ids(key)
    raise ops.unsupported_delete(key.id)
    yield  # pragma: no cover - makes this a flow
