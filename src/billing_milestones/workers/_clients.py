"""Clients for a worker's runs, with the budgets every worker shares.

Autotask's client takes ``limiter=`` and ``hourly_budget=``; a worker gives it the PostgreSQL ones
(:mod:`._budgets`), keyed by the API user (one tenant) so that every worker syncing that tenant draws on
one budget. The other platforms are connected as ``milestones sync`` connects them. One
:class:`SharedBudgets` lives as long as its worker, so its connection pools are reused across jobs.
"""

from __future__ import annotations

from typing import Any

from ..model import Platform
from ..sync._store_config import WorkerSettings
from ..sync.config import Settings
from ..sync.connect import connect
from ._budgets import PostgresHourlyBudget, PostgresLimiter

__all__ = ["SharedBudgets"]


class SharedBudgets:
    """The shared Autotask limiter and hourly budget of one queue database, and a ``connect`` that uses them."""

    def __init__(self, url: str, workers: WorkerSettings) -> None:
        self.url = url
        self.workers = workers
        self._limiters: dict[str, PostgresLimiter] = {}
        self._budgets: dict[str, PostgresHourlyBudget] = {}

    def for_tenant(self, tenant: str) -> tuple[PostgresLimiter, PostgresHourlyBudget]:
        if tenant not in self._limiters:
            self._limiters[tenant] = PostgresLimiter(
                self.url, self.workers.autotask_threads, namespace=f"autotask:{tenant}"
            )
            self._budgets[tenant] = PostgresHourlyBudget(
                self.url, self.workers.autotask_hourly_budget, key=f"autotask:{tenant}"
            )
        return self._limiters[tenant], self._budgets[tenant]

    def connect(self, platform: Platform, settings: Settings) -> Any:
        """A client for ``platform``; Autotask's with the shared limiter and budget."""
        if platform is not Platform.AUTOTASK:
            return connect(platform, settings)
        settings.require(platform)
        from ..autotask import AutotaskClient

        section = settings.autotask
        # require() has refused a missing user, secret or integration code by name.
        assert section.username is not None and section.secret is not None
        assert section.integration_code is not None
        limiter, budget = self.for_tenant(str(section.username))
        return AutotaskClient(
            section.username,
            section.secret,
            section.integration_code,
            base_url=section.base_url,
            impersonation_resource_id=section.impersonation_resource_id,
            currency=section.currency,
            max_threads=self.workers.autotask_threads,
            limiter=limiter,
            hourly_budget=budget,
        )

    def close(self) -> None:
        for limiter in self._limiters.values():
            limiter.close()
        for budget in self._budgets.values():
            budget.close()
