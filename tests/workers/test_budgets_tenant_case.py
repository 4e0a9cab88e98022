"""An Autotask API user is an email address, which Autotask does not tell apart by case: configs that spell
one user two ways draw on one tenant's slots and hourly budget, not one each (twice the limits together)."""

from __future__ import annotations

from billing_milestones.sync._store_config import WorkerSettings
from billing_milestones.workers._clients import SharedBudgets


def test_one_api_user_spelt_in_two_cases_shares_one_budget_and_one_set_of_slots(url: str) -> None:
    first, second = (SharedBudgets(url, WorkerSettings(autotask_hourly_budget=2)) for _ in range(2))
    try:
        limiter_a, budget_a = first.for_tenant("API-User@Example.com")
        limiter_b, budget_b = second.for_tenant("api-user@example.com")
        assert (limiter_a.namespace, budget_a.key) == (limiter_b.namespace, budget_b.key)
        assert [budget_a.acquire(), budget_b.acquire()] == [None, None]
        assert budget_a.acquire() is not None and budget_b.acquire() is not None  # two in all, not two each
    finally:
        first.close()
        second.close()
