"""A contract's currency: given by the caller, or resolved Contracts -> Companies -> Currencies and cached."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
import respx

from billing_milestones import errors
from billing_milestones.autotask import AsyncAutotaskClient, AutotaskClient
from billing_milestones.autotask import _operations as ops
from billing_milestones.autotask.wire import Company, Contract, Currency
from billing_milestones.money import Money
from billing_milestones.sandbox.autotask import AutotaskSandbox

from .conftest import FAST, make_async_client, make_client
from .test_client import FIELDS, page, rec

ZONE = "https://webservices5.autotask.net/ATServicesRest/V1.0"
CONTRACT = r"(?i)^/Contracts/\d+$"
COMPANY = r"(?i)^/Companies/\d+$"
CURRENCY = r"(?i)^/Currencies/\d+$"
INTERNAL = r"(?i)^/Currencies/query$"


def lookups(sandbox: AutotaskSandbox) -> dict[str, int]:
    return {
        "contract": sandbox.count_requests("GET", CONTRACT),
        "company": sandbox.count_requests("GET", COMPANY),
        "currency": sandbox.count_requests("GET", CURRENCY),
        "internal": sandbox.count_requests("POST", INTERNAL),
    }


#: A given currency skips resolution; a listing that lists milestones of the contract needs no contract read
#: (they prove it exists; an empty listing reads it, see test_containers).
CHECKED = {"contract": 0, "company": 0, "currency": 0, "internal": 0}


@pytest.fixture
def tenant() -> tuple[AutotaskSandbox, dict[str, int]]:
    sandbox = AutotaskSandbox(internal_currency="GBP")
    ids = {
        "eur": sandbox.add_contract(currency="EUR", exchange_rate="0.85"),
        "internal": sandbox.add_contract(),  # a company without currencyID
    }
    sandbox.add_milestone(ids["eur"], title="Phase 1", amount="20000.00")
    sandbox.add_milestone(ids["internal"], title="Retainer", amount="150.50")
    return sandbox, ids


# -- sync, through the sandbox ------------------------------------------------------------------------
def test_company_currency(tenant: tuple[AutotaskSandbox, dict[str, int]]) -> None:
    sandbox, ids = tenant
    with make_client(sandbox, currency=None) as client:
        [m] = client.milestones.list(str(ids["eur"]))
        assert m.amount == Money("20000", "EUR")
        assert client.currency_for(ids["eur"]) == "EUR"
    assert lookups(sandbox) == {"contract": 1, "company": 1, "currency": 1, "internal": 0}


def test_internal_currency_when_the_company_has_none(tenant: tuple[AutotaskSandbox, dict[str, int]]) -> None:
    sandbox, ids = tenant
    with make_client(sandbox, currency=None) as client:
        [m] = client.milestones.list(str(ids["internal"]))
    assert m.amount == Money("150.50", "GBP")
    assert lookups(sandbox) == {"contract": 1, "company": 1, "currency": 0, "internal": 1}


@pytest.mark.parametrize("how", ["string", "mapping", "call"])
def test_caller_given_currency_wins_and_sends_no_currency_lookup(
    tenant: tuple[AutotaskSandbox, dict[str, int]], how: str
) -> None:
    sandbox, ids = tenant
    setting = {"string": "USD", "mapping": {ids["eur"]: "USD"}, "call": None}[how]
    with make_client(sandbox, currency=setting) as client:
        [m] = client.milestones.list(str(ids["eur"]), currency="USD" if how == "call" else None)
        assert client.currency_for(ids["eur"], "JPY") == "JPY"
    assert m.amount == Money("20000", "USD")  # the caller said so, even against the company's EUR
    assert lookups(sandbox) == CHECKED


def test_cache_per_client_shared_with_copies(tenant: tuple[AutotaskSandbox, dict[str, int]]) -> None:
    sandbox, ids = tenant
    with make_client(sandbox, currency=None) as client:
        list(client.milestones.list(str(ids["eur"])))
        after_first = lookups(sandbox)
        list(client.milestones.list(str(ids["eur"])))
        list(client.with_options(max_retries=0).milestones.list(str(ids["eur"])))
        assert lookups(sandbox) == after_first
        # another contract of a company in the same currency: the currency row is cached too
        other = sandbox.add_contract(currency="EUR")
        assert client.currency_for(other) == "EUR"
        assert lookups(sandbox) == {**after_first, "contract": 2, "company": 2}
        assert client.currency_for(ids["eur"], refresh=True) == "EUR"
        assert lookups(sandbox)["contract"] == 3
    with make_client(sandbox, currency=None) as fresh:  # another client: its own cache
        fresh.currency_for(ids["eur"])
    assert lookups(sandbox)["contract"] == 4


def test_multi_currency_off_needs_the_caller(tenant: tuple[AutotaskSandbox, dict[str, int]]) -> None:
    sandbox = AutotaskSandbox(multi_currency=False)
    cid = sandbox.add_contract()
    sandbox.add_milestone(cid, amount="10.00")
    with make_client(sandbox, currency=None) as client:
        with pytest.raises(errors.ConfigError, match=r"could not be resolved.*currency=") as caught:
            list(client.milestones.list(str(cid)))
        assert caught.value.key == "currency"
        assert isinstance(caught.value.__cause__, errors.NotFoundError)
    assert sandbox.count_requests("POST", INTERNAL) == 1
    with make_client(sandbox, currency="USD") as client:
        assert [m.amount for m in client.milestones.list(str(cid))] == [Money("10.00", "USD")]


def test_a_non_iso_currency_name_is_a_translation_error() -> None:
    sandbox = AutotaskSandbox()
    company = sandbox.add_company(currency_id=sandbox.add_currency("Dollars"))
    cid = sandbox.add_contract(company_id=company)
    with make_client(sandbox, currency=None) as client, pytest.raises(errors.TranslationError, match="'Dollars'"):
        client.currency_for(cid)
    broken = AutotaskSandbox(internal_currency="XX1")
    with make_client(broken, currency=None) as client, pytest.raises(errors.TranslationError, match="XX1"):
        client.currency_for(broken.add_contract())


def test_an_unknown_contract_is_not_found() -> None:
    sandbox = AutotaskSandbox()
    with make_client(sandbox, currency=None) as client, pytest.raises(errors.NotFoundError, match="Contract 999"):
        client.currency_for(999)


def test_create_and_update_use_the_resolved_currency(tenant: tuple[AutotaskSandbox, dict[str, int]]) -> None:
    sandbox, ids = tenant
    with make_client(sandbox, currency=None) as client:
        [listed] = client.milestones.list(str(ids["eur"]))
        updated = client.milestones.update(listed.model_copy(update={"amount": Money("21000", "EUR")}))
        assert updated.amount == Money("21000", "EUR")
        with pytest.raises(errors.TranslationError):  # a USD milestone does not go into a EUR contract
            client.milestones.update(listed.model_copy(update={"amount": Money("1", "USD")}))
    assert lookups(sandbox)["contract"] == 1


# -- async, through the sandbox -----------------------------------------------------------------------
async def test_async_company_and_internal_currency_cached(tenant: tuple[AutotaskSandbox, dict[str, int]]) -> None:
    sandbox, ids = tenant
    async with make_async_client(sandbox, currency=None) as client:
        eur = [m async for m in client.milestones.list(str(ids["eur"]))]
        internal = [m async for m in client.milestones.list(str(ids["internal"]))]
        assert eur[0].amount == Money("20000", "EUR") and internal[0].amount == Money("150.50", "GBP")
        before = lookups(sandbox)
        assert before == {"contract": 2, "company": 2, "currency": 1, "internal": 1}
        [m async for m in client.milestones.list(str(ids["eur"]))]
        [m async for m in client.with_options(max_retries=0).milestones.list(str(ids["internal"]))]
        assert lookups(sandbox) == before
        assert await client.currency_for(ids["eur"], "CHF") == "CHF"


async def test_async_caller_given_wins(tenant: tuple[AutotaskSandbox, dict[str, int]]) -> None:
    sandbox, ids = tenant
    async with make_async_client(sandbox, currency={ids["eur"]: "EUR"}) as client:
        assert [m.amount async for m in client.milestones.list(str(ids["eur"]))] == [Money("20000", "EUR")]
        assert [m.amount async for m in client.milestones.list(str(ids["internal"]), currency="GBP")] == [
            Money("150.50", "GBP")
        ]
    assert lookups(sandbox) == CHECKED  # both contracts listed milestones of their own: no contract read


async def test_async_multi_currency_off_and_non_iso() -> None:
    sandbox = AutotaskSandbox(multi_currency=False)
    cid = sandbox.add_contract()
    async with make_async_client(sandbox, currency=None) as client:
        with pytest.raises(errors.ConfigError, match="currency="):
            [m async for m in client.milestones.list(str(cid))]
    odd = AutotaskSandbox()
    odd_cid = odd.add_contract(company_id=odd.add_company(currency_id=odd.add_currency("Euro")))
    async with make_async_client(odd, currency=None) as client:
        with pytest.raises(errors.TranslationError, match="'Euro'"):
            await client.currency_for(odd_cid)


# -- exact wire paths (respx) -------------------------------------------------------------------------
def _mock_chain(company: dict[str, object], *, currencies_status: int = 200) -> dict[str, respx.Route]:
    milestones = page([rec(1, contractID=7, amount=1500)])
    routes = {
        "contract": respx.get(f"{ZONE}/Contracts/7").mock(
            return_value=httpx.Response(
                200,
                json={"item": {"id": 7, "companyID": 30, "contractType": 3, "contractName": "Fixed", "extra": 1}},
            )
        ),
        "company": respx.get(f"{ZONE}/Companies/30").mock(
            return_value=httpx.Response(200, json={"item": {"id": 30, "companyName": "Acme", **company}})
        ),
        "currency": respx.get(f"{ZONE}/Currencies/4").mock(
            return_value=httpx.Response(  # a JSON number: parsed as Decimal, never float
                currencies_status,
                content=b'{"item": {"id": 4, "name": "CAD", "isInternalCurrency": false, "exchangeRate": 0.73}}',
            )
        ),
        "internal": respx.post(f"{ZONE}/Currencies/query").mock(
            return_value=httpx.Response(
                currencies_status,
                json=page([{"id": 1, "name": "usd", "isInternalCurrency": True}])
                if currencies_status == 200
                else {"Message": "No HTTP resource was found"},
            )
        ),
        "fields": respx.get(f"{ZONE}/ContractMilestones/entityInformation/fields").mock(
            return_value=httpx.Response(200, json=FIELDS)
        ),
        "query": respx.post(f"{ZONE}/ContractMilestones/query").mock(return_value=httpx.Response(200, json=milestones)),
    }
    return routes


def _client() -> AutotaskClient:
    return AutotaskClient("api@x.test", "s3cret-value", "INTEGRATIONCODE", base_url=ZONE, retry_policy=FAST)


def _aclient() -> AsyncAutotaskClient:
    return AsyncAutotaskClient("api@x.test", "s3cret-value", "INTEGRATIONCODE", base_url=ZONE, retry_policy=FAST)


@respx.mock
def test_wire_company_currency_path() -> None:
    routes = _mock_chain({"currencyID": 4})
    with _client() as client:
        [m] = client.milestones.list("7")
    assert m.amount == Money("1500", "CAD")
    for name in ("contract", "company", "currency"):
        assert routes[name].call_count == 1
        request = routes[name].calls[0].request
        assert request.method == "GET" and request.headers["Secret"] == "s3cret-value"
    assert not routes["internal"].called


@respx.mock
def test_wire_internal_currency_query() -> None:
    routes = _mock_chain({"currencyID": None})
    with _client() as client:
        assert client.currency_for(7) == "USD"  # the name is upper-cased before the ISO check
    assert not routes["currency"].called
    body = json.loads(routes["internal"].calls[0].request.content)
    assert body["filter"] == [{"op": "eq", "field": "isInternalCurrency", "value": True}]


@respx.mock
async def test_wire_async_paths_and_404() -> None:
    routes = _mock_chain({"currencyID": 4})
    async with _aclient() as client:
        assert await client.currency_for(7) == "CAD"
        assert await client.currency_for(7) == "CAD"
    assert [routes[n].call_count for n in ("contract", "company", "currency", "internal")] == [1, 1, 1, 0]
    respx.clear()
    _mock_chain({}, currencies_status=404)  # no currencyID at all, and no Currencies entity
    async with _aclient() as client:
        with pytest.raises(errors.ConfigError, match=r"Multi-currency module is not enabled.*currency="):
            await client.currency_for(7)


# -- sans-IO pieces -----------------------------------------------------------------------------------
def test_operations_and_models() -> None:
    assert ops.contract_operation(7).spec.path == "Contracts/7"
    assert ops.company_operation(30).spec.path == "Companies/30"
    assert ops.currency_operation(4).spec.path == "Currencies/4"
    spec = ops.internal_currency_operation().spec
    assert (spec.method, spec.path) == ("POST", "Currencies/query")
    with pytest.raises(errors.ValidationError):
        ops.contract_operation(0)
    contract = Contract.model_validate({"id": 7, "companyID": 30, "contractType": 3, "contractName": "X", "new": 1})
    assert (contract.company_id, contract.contract_type, contract.extra_fields) == (30, 3, {"new": 1})
    assert Company.model_validate({"id": 30, "currencyID": None}).currency_id is None
    currency = Currency.model_validate({"id": 4, "name": "CAD", "isActive": True, "exchangeRate": Decimal("0.73")})
    assert currency.exchange_rate == Decimal("0.73") and currency.raw()["exchangeRate"] == "0.73"
    assert ops.currency_code(currency, "test") == "CAD"
    with pytest.raises(errors.TranslationError, match="'Canadian'"):
        ops.currency_code(Currency(id=5, name="Canadian"), "test")


def test_resolution_flow_steps() -> None:
    cache = ops.CurrencyCache()
    flow = ops.resolve_currency(7, cache)
    assert next(flow).spec.path == "Contracts/7"
    assert flow.send(Contract(id=7, companyID=30)).spec.path == "Companies/30"
    assert flow.send(Company(id=30, currencyID=4)).spec.path == "Currencies/4"
    with pytest.raises(StopIteration) as done:
        flow.send(Currency(id=4, name="EUR"))
    assert done.value.value == "EUR"
    assert cache.by_contract == {7: "EUR"} and cache.by_currency_id == {4: "EUR"}
    with pytest.raises(StopIteration) as cached:
        next(ops.resolve_currency(7, cache))
    assert cached.value.value == "EUR"
    no_company = ops.resolve_currency(8, cache)
    next(no_company)
    with pytest.raises(errors.ConfigError, match="no companyID"):
        no_company.send(Contract(id=8))


# -- checked where given (issue 12 point 6) -------------------------------------------------------------
@pytest.mark.parametrize(
    ("currency", "named"),
    [("dollars", "currency"), ({29683001: "dollars"}, "currency"), ({0: "EUR"}, "contract id"), (978, "currency")],
)
def test_a_bad_client_currency_is_refused_by_name_before_any_request(currency: object, named: str) -> None:
    sandbox = AutotaskSandbox()
    with pytest.raises(errors.ValidationError, match=named):
        make_client(sandbox, currency=currency)
    assert sandbox.count_requests() == 0


def test_a_given_currency_is_its_iso_code(tenant: tuple[AutotaskSandbox, dict[str, int]]) -> None:
    sandbox, ids = tenant
    with make_client(sandbox, currency={ids["eur"]: " eur "}) as client:
        assert client.currency_for(ids["eur"]) == "EUR"
    with make_client(sandbox, currency="gbp") as client:
        assert client.currency_for(ids["internal"]) == "GBP"


def test_a_bad_per_call_currency_is_refused_before_any_request(tenant: tuple[AutotaskSandbox, dict[str, int]]) -> None:
    sandbox, ids = tenant
    with make_client(sandbox) as client:
        with pytest.raises(errors.ValidationError, match="currency"):
            list(client.milestones.list(str(ids["eur"]), currency="dollars"))
        with pytest.raises(errors.ValidationError, match="currency"):
            client.currency_for(ids["eur"], "dollars")
    assert sandbox.count_requests() == 0
