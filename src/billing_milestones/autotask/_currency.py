"""Sans-IO currency resolution: which ISO 4217 currency a contract's milestone amounts are in.

A milestone carries no currency. Its amount is in the contract's company's currency when the Multi-currency
module is on (Company.currencyID -> Currencies.name), else in the tenant's internal currency. Currencies exists
only with that module; without it nothing on the API names the internal currency, so the caller must.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from .. import errors
from .._http import APIResponse, Operation, RequestSpec, Retryable
from ..money import known_currencies
from . import _envelopes as env
from ._ids import check_id as _check_id
from .query import F, Query
from .wire import (
    Company,
    CompanyItemResponse,
    Contract,
    ContractItemResponse,
    CurrenciesResponse,
    Currency,
    CurrencyItemResponse,
)

__all__ = [
    "CurrencyCache",
    "CurrencyFlow",
    "company_operation",
    "contract_operation",
    "currency_code",
    "currency_operation",
    "internal_currency_operation",
    "resolve_currency",
    "unresolved_currency",
]


def contract_operation(contract_id: int) -> Operation[Contract]:
    """``GET /Contracts/{id}``; ``item: null`` raises NotFoundError."""
    cid = _check_id(contract_id, "contractID")
    spec = RequestSpec("GET", f"Contracts/{cid}", limit_key="Contracts")
    return Operation(
        spec, lambda r: env.checked_item("Contract", cid, r, ContractItemResponse.model_validate(env.body_of(r)).item)
    )


def company_operation(company_id: int) -> Operation[Company]:
    """``GET /Companies/{id}``; ``item: null`` raises NotFoundError."""
    coid = _check_id(company_id, "companyID")
    spec = RequestSpec("GET", f"Companies/{coid}", limit_key="Companies")
    return Operation(
        spec, lambda r: env.checked_item("Company", coid, r, CompanyItemResponse.model_validate(env.body_of(r)).item)
    )


def currency_operation(currency_id: int) -> Operation[Currency]:
    """``GET /Currencies/{id}`` (404 when the Multi-currency module is off)."""
    cuid = _check_id(currency_id, "currencyID")
    spec = RequestSpec("GET", f"Currencies/{cuid}", limit_key="Currencies")
    return Operation(
        spec, lambda r: env.checked_item("Currency", cuid, r, CurrencyItemResponse.model_validate(env.body_of(r)).item)
    )


def internal_currency_operation() -> Operation[Currency | None]:
    """``POST /Currencies/query`` for ``isInternalCurrency eq true``: the tenant's internal currency, or None."""
    body = Query(F.eq("isInternalCurrency", True), max_records=10).to_wire()
    spec = RequestSpec("POST", "Currencies/query", json=body, retryable=Retryable.ALWAYS, limit_key="Currencies")

    def parse(response: APIResponse) -> Currency | None:
        body = CurrenciesResponse.model_validate(env.body_of(response))
        env.count_matches(body.page_details, body.items)
        return next((c for c in body.items if c.is_internal_currency is not False), None)

    return Operation(spec, parse)


def currency_code(currency: Currency, source: str) -> str:
    """``Currencies.name`` is the ISO 4217 code; anything else cannot price a milestone."""
    name = currency.name.strip().upper() if isinstance(currency.name, str) else None
    if name is None or len(name) != 3 or name not in known_currencies():
        raise errors.TranslationError(
            f"Autotask currency {currency.id} ({source}) is named {currency.name!r}, which is not an ISO 4217 "
            "code; pass currency= to the client or the call to say which currency its amounts are in",
            field="currency",
            source=currency.name,
        )
    return name


def unresolved_currency(contract_id: int, why: str) -> errors.ConfigError:
    return errors.ConfigError(
        f"the currency of Autotask contract {contract_id} could not be resolved: {why}. Pass currency='USD' (one "
        "code for every contract) or a {contract_id: code} mapping to the client, or currency= to the call",
        key="currency",
    )


@dataclass
class CurrencyCache:
    """What currency resolution learnt, per client (shared with ``with_options`` copies).

    Contract -> code is the cache callers see; currency ids and the internal currency are shared by every
    contract, so a second contract of another company costs two reads, not three.
    """

    by_contract: dict[int, str] = field(default_factory=dict)
    by_currency_id: dict[int, str] = field(default_factory=dict)
    internal: str | None = None
    contracts: dict[int, Contract] = field(default_factory=dict)
    #: Contracts known to exist: read (``contracts``), or one of their milestones was listed as theirs.
    existing: set[int] = field(default_factory=set)

    def clear(self) -> None:
        self.by_contract.clear()
        self.by_currency_id.clear()
        self.internal = None
        self.contracts.clear()
        self.existing.clear()


#: The requests of a resolution: the client executes each yielded Operation and sends its result back
#: (or throws the APIError it raised), so the sync and async clients share every step.
CurrencyFlow = Generator[Operation[Any], Any, str]


def resolve_currency(contract_id: int, cache: CurrencyCache) -> CurrencyFlow:
    """Contracts/{id} -> companyID; Companies/{id} -> currencyID; Currencies/{id} -> name (ISO 4217).
    A company without a currency uses the internal one (``Currencies`` with ``isInternalCurrency``)."""
    cid = _check_id(contract_id, "contractID")
    cached = cache.by_contract.get(cid)
    if cached is not None:
        return cached
    contract: Contract = yield contract_operation(cid)
    cache.contracts[cid] = contract
    cache.existing.add(cid)
    if contract.company_id is None:
        raise unresolved_currency(cid, "the contract has no companyID")
    company: Company = yield company_operation(contract.company_id)
    try:
        if company.currency_id is not None:
            code = cache.by_currency_id.get(company.currency_id)
            if code is None:
                currency: Currency = yield currency_operation(company.currency_id)
                code = currency_code(currency, f"currency of company {company.id}")
                cache.by_currency_id[company.currency_id] = code
        else:
            code = cache.internal
            if code is None:
                internal: Currency | None = yield internal_currency_operation()
                if internal is None:
                    raise unresolved_currency(
                        cid,
                        f"company {company.id} has no currencyID and Autotask names no internal currency "
                        "(is the Multi-currency module off?)",
                    )
                code = currency_code(internal, "the internal currency")
                cache.internal = code
    except errors.APIStatusError as exc:
        if exc.status_code != 404:
            raise
        raise unresolved_currency(
            cid, "the Currencies entity is absent (HTTP 404: the Multi-currency module is not enabled)"
        ) from exc
    cache.by_contract[cid] = code
    return code
