"""Clients for a worker's runs, with the budgets every worker shares.

Autotask's client takes ``limiter=`` and ``hourly_budget=``; a worker gives it the PostgreSQL ones
(:mod:`._budgets`), keyed by the API user (one tenant) so that every worker syncing that tenant draws on
one budget. With ``kantata_requests_per_minute`` set, Kantata's client gets a shared sliding-window budget
as ``request_budget=`` (the hook every client takes): it waits for a slot before each attempt (every
attempt counts, as on the server). crm.com is connected as ``milestones sync`` connects it.

One :class:`SharedBudgets` lives as long as its worker, and so does what is costly to build: the budgets'
connection pools, one HTTP connection pool per platform (an ``httpx.Client`` costs ~20 ms of CPU to build,
its TLS context mostly, which was most of a job's CPU) and the tenant metadata the sync engine's Autotask
clients share (zone and picklist, bounded in time: see ``_metadata_cache``). Each job still gets clients of
its own over them; the pools keep no cookies, so nothing a response sets reaches another job's requests.
"""

from __future__ import annotations

import threading
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx

from .._http import DEFAULT_TIMEOUT
from ..errors import BillingMilestonesError
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
        #: Kantata's rate, apart from the tenants' budgets: kept among them under "kantata", it was the hourly
        #: budget of an Autotask API user of that name (a tenant's count, window and platform), or replaced by it.
        self._kantata: PostgresHourlyBudget | None = None
        self._http: dict[Platform, httpx.Client] = {}
        #: A worker's jobs start at once in several threads: each pool and budget is built once, not once each.
        self._lock = threading.Lock()

    def for_tenant(self, tenant: str) -> tuple[PostgresLimiter, PostgresHourlyBudget]:
        """The limiter and hourly budget of the tenant of API user ``tenant``. The user name is an email
        address, which Autotask does not tell apart by case: ``API@x.com`` and ``api@x.com`` are one tenant's
        user, and one budget (two configs spelling it two ways got two, and together twice the limits)."""
        with self._lock:
            return self._for_tenant(tenant.casefold())

    def _for_tenant(self, tenant: str) -> tuple[PostgresLimiter, PostgresHourlyBudget]:
        if tenant not in self._limiters:
            # The limiter's lease is the clients' timeout: a dead worker's slot stays taken that long.
            self._limiters[tenant] = PostgresLimiter(
                self.url, self.workers.autotask_threads, namespace=f"autotask:{tenant}", timeout=self.autotask_timeout()
            )
            self._budgets[tenant] = PostgresHourlyBudget(
                self.url, self.workers.autotask_hourly_budget, key=f"autotask:{tenant}"
            )
        return self._limiters[tenant], self._budgets[tenant]

    def warm(self, settings: Settings, connections: int) -> None:
        """Open, before the first job, what the shared budgets of the configured pairs will use: for Autotask
        the tenant's limiter and hourly budget with ``connections`` connections each (one per job run at
        once) and the limiter's wake-up listener, so no connect lands on a request. A tenant not configured
        yet is left to the job, which names what is missing."""
        platforms = {platform for spec in settings.pairs.values() for platform, _ in (spec.source, spec.target)}
        if Platform.AUTOTASK in platforms and settings.autotask.username is not None:
            limiter, budget = self.for_tenant(str(settings.autotask.username))
            limiter.warm(connections)
            budget.warm(connections)
        if Platform.KANTATA in platforms and (kantata := self.kantata_budget()) is not None:
            kantata.warm(connections)

    def rehearse(self, platform: Platform, settings: Settings) -> None:
        """Build one client of ``platform`` as a job would, and its milestone view, then close it: nothing is
        sent. Why: a process imports a platform's client, wire models and adapter on the first client it
        builds (~85 ms for Autotask, ~40 ms for Kantata, on the development machine), and a worker's first
        jobs, started together, each waited for that import under the import lock while holding a place in
        the queue: their connect took 100-550 ms instead of 1 ms. A platform the config cannot connect yet is
        left to the job, which names what is missing."""
        try:
            with self.connect(platform, settings) as client:
                client.milestones  # noqa: B018 - building the view imports its adapter
        except BillingMilestonesError:
            return

    def autotask_timeout(self) -> httpx.Timeout:
        """The timeout of this worker's Autotask clients, which its limiters' leases are made from."""
        seconds = self.workers.autotask_timeout
        return DEFAULT_TIMEOUT if seconds is None else httpx.Timeout(seconds)

    def kantata_budget(self) -> PostgresHourlyBudget | None:
        """The Kantata request rate every worker shares (a one-minute window), when one is configured."""
        per_minute = self.workers.kantata_requests_per_minute
        if per_minute is None:
            return None
        with self._lock:
            if self._kantata is None:
                self._kantata = PostgresHourlyBudget(
                    self.url, per_minute, key="kantata", window=60.0, platform="kantata"
                )
            return self._kantata

    def http(self, platform: Platform) -> httpx.Client:
        """This worker's connection pool for ``platform``, shared by its jobs' clients (thread-safe)."""
        with self._lock:
            if platform not in self._http:
                no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
                self._http[platform] = httpx.Client(follow_redirects=False, verify=True, cookies=no_cookies)
            return self._http[platform]

    def connect(self, platform: Platform, settings: Settings) -> Any:
        """A client for ``platform`` over this worker's pool; Autotask's with the shared limiter, budget and
        metadata, Kantata's paced when a shared rate is configured."""
        if platform is Platform.KANTATA and (budget := self.kantata_budget()) is not None:
            return self._paced_kantata(settings, budget)
        if platform is not Platform.AUTOTASK:
            return connect(platform, settings, http_client=self.http(platform))
        settings.require(platform)
        from .._metadata_cache import SHARED_METADATA
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
            timeout=self.autotask_timeout(),
            limiter=limiter,
            hourly_budget=budget,
            http_client=self.http(platform),
            metadata_cache=SHARED_METADATA,
        )

    def _paced_kantata(self, settings: Settings, budget: PostgresHourlyBudget) -> Any:
        """Kantata's client as ``milestones sync`` makes it, drawing every attempt from the shared rate."""
        settings.require(Platform.KANTATA)
        from ..kantata import KantataClient

        section = settings.kantata
        assert section.token is not None  # require() has refused a missing token by name
        options: dict[str, Any] = {"json_suffix": section.json_suffix}
        if section.base_url:
            options["base_url"] = section.base_url
        return KantataClient(section.token, http_client=self.http(Platform.KANTATA), request_budget=budget, **options)

    def close(self) -> None:
        with self._lock:
            pools = list(self._http.values())
            self._http.clear()
        for pool in pools:
            pool.close()
        for limiter in self._limiters.values():
            limiter.close()
        for budget in self._budgets.values():
            budget.close()
        if self._kantata is not None:
            self._kantata.close()
