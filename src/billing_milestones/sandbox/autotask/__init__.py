"""An in-memory Autotask PSA (REST V1.0) emulator for ContractMilestones.

It follows the documented behaviour and its quirks: zone discovery, credential errors that are 500s
(unknown user, bad integration code) or 401s (bad secret), business-rule failures as HTTP 500 with
``{"errors": [...]}``, 500-record pages (the child list ``GET /Contracts/{id}/Milestones`` too) whose
vendor-shaped ``nextPageUrl`` must be replayed with POST (a GET answers 405; see ``_paging``),
``item: null`` for a missing id, create/update only through ``/Contracts/{id}/Milestones``, no
DELETE, the status picklist, and the 3-thread-per-endpoint and hourly thresholds. For a contract's currency it
serves ``Contracts/{id}``, ``Companies/{id}`` and, with the Multi-currency module on, ``Currencies``.

One job a module: ``_store`` (tenant state and record rules), ``_reads`` (lookups, queries, counts), ``_routes``
(the route table, auth, limits, metadata, writes), ``_seed`` (tenant set-up for tests and demos), ``_query``
(the filter language) and ``_paging`` (page links).
"""

from __future__ import annotations

from typing import ClassVar

from ._routes import _Routes
from ._seed import _Seed
from ._store import CONTRACT_TYPE_FIXED_PRICE, PAGE_SIZE, STATUS_BILLED, STATUS_NOT_READY, STATUS_READY

__all__ = [
    "CONTRACT_TYPE_FIXED_PRICE",
    "PAGE_SIZE",
    "STATUS_BILLED",
    "STATUS_NOT_READY",
    "STATUS_READY",
    "AutotaskSandbox",
]


class AutotaskSandbox(_Routes, _Seed):
    """Emulates one Autotask tenant. Reach it with ``http_client()``, ``async_http_client()`` or ``asgi_app()``.

    ```pycon
    >>> from billing_milestones import AutotaskClient
    >>> sandbox = AutotaskSandbox()
    >>> ids = sandbox.seed_demo()
    >>> client = AutotaskClient(
    ...     sandbox.USERNAME,
    ...     sandbox.SECRET,
    ...     sandbox.INTEGRATION_CODE,
    ...     http_client=sandbox.http_client(),
    ...     currency="USD",
    ... )
    >>> for m in client.milestones.list(str(ids["usd_contract"])):
    ...     print(m.title, m.amount)
    Deposit 5000.00 USD
    Design sign-off 7500.00 USD
    Launch 12500.00 USD
    >>> client.close()

    ```
    """

    platform: ClassVar[str] = "autotask"
    base_path: ClassVar[str] = "/ATServicesRest/V1.0"
    base_path_case_insensitive: ClassVar[bool] = True
