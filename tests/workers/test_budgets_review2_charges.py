"""Second review of how an Autotask client charges the shared hourly budget: every authenticated attempt is
one unit (a retried 503 and each page of a listing, as Autotask counts them), charged before it is sent, and
a refusal sends nothing; what the server saw and what the budget counted agree."""

from __future__ import annotations

import pytest

from billing_milestones import AutotaskClient
from billing_milestones.errors import BudgetExhaustedError, RequestNotSentError
from billing_milestones.sandbox import AutotaskSandbox, FaultPlan, LoopbackServer
from billing_milestones.workers import PostgresHourlyBudget


def _client(server: LoopbackServer, budget: PostgresHourlyBudget) -> AutotaskClient:
    return AutotaskClient(
        AutotaskSandbox.USERNAME,
        AutotaskSandbox.SECRET,
        AutotaskSandbox.INTEGRATION_CODE,
        base_url=f"{server.url}/ATServicesRest/V1.0",
        currency="USD",
        hourly_budget=budget,
    )


def _authenticated(sandbox: AutotaskSandbox) -> int:
    return sum(1 for entry in sandbox.request_log if "zoneInformation" not in entry.path)


def test_retries_and_pages_are_each_one_unit_as_the_server_counts_them(url: str) -> None:
    sandbox = AutotaskSandbox(page_size=2, faults=FaultPlan().status(503, times=2, path="ContractMilestones/query"))
    contract = sandbox.add_contract(name="Paged")
    for i in range(5):
        sandbox.add_milestone(contract, title=f"M{i}")
    budget = PostgresHourlyBudget(url, 1000, key="charges")
    try:
        with LoopbackServer(sandbox.asgi_app()) as server, _client(server, budget) as client:
            assert len(list(client.milestones.list(str(contract)))) == 5
        assert sandbox.faults.fired() == 2  # two attempts answered 503, retried
        pages = sum(1 for entry in sandbox.request_log if "ContractMilestones/query" in entry.path)
        assert pages >= 5  # three pages, two of them sent twice
        assert budget.used() == _authenticated(sandbox)
    finally:
        budget.close()


def test_the_attempt_past_the_budget_is_refused_unsent(url: str) -> None:
    sandbox = AutotaskSandbox(page_size=1)
    contract = sandbox.add_contract(name="Spent")
    for i in range(6):
        sandbox.add_milestone(contract, title=f"M{i}")
    budget = PostgresHourlyBudget(url, 4, key="spent")
    try:
        with (
            LoopbackServer(sandbox.asgi_app()) as server,
            _client(server, budget) as client,
            pytest.raises(BudgetExhaustedError) as refused,
        ):
            list(client.milestones.list(str(contract)))
        assert isinstance(refused.value, RequestNotSentError) and refused.value.platform == "autotask"
        hint = refused.value.retry_after
        assert hint is not None and 0 < hint <= 3600 and "not sent" in str(refused.value)
        assert _authenticated(sandbox) == 4 == budget.used()  # the fifth was never sent
    finally:
        budget.close()
