"""In-memory crm.com (Self-Service v2, and Backoffice v2 assumed to mirror it) for order estimates and milestones.

What it follows: order queues whose stages carry milestone settings (``queue_percentage``); estimates computed
as amount = total x percentage / 100 (percentage falling back to ``queue_percentage`` when no milestones are
sent), in exact Decimal quantised to the currency exponent half-even, the last milestone absorbing the rounding
when the set covers the whole total; the milestone rules enforced with 400 ``{status, message, error,
parameters}``; reusable estimation ids; Submit Order, Get Order and contact orders (``{content, paging}``) for a
contact Bearer only on Self-Service, as its description says (Backoffice also takes the secret ``api_key``).

Its computations are written independently of the client's adapter and rules on purpose, so the tests compare
two implementations rather than one with itself.

One job a module: ``_store`` (tenant state, credentials, the error shape), ``_estimates`` (pricing and the
milestone rules), ``_routes`` (the route table, auth, orders) and ``_seed`` (tenant set-up for tests and demos).
"""

from __future__ import annotations

from typing import ClassVar

from ._routes import _Routes
from ._seed import DemoSeed, _Seed
from ._store import (
    DEMO_PASSWORD,
    DEMO_PUBLIC_KEY,
    DEMO_SECRET_KEY,
    SandboxContact,
    SandboxProduct,
    SandboxQueue,
    SandboxStage,
    error_body,
)

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_PUBLIC_KEY",
    "DEMO_SECRET_KEY",
    "CrmComSandbox",
    "DemoSeed",
    "SandboxContact",
    "SandboxProduct",
    "SandboxQueue",
    "SandboxStage",
    "error_body",
]


class CrmComSandbox(_Routes, _Seed):
    """An emulated crm.com tenant. Reach it with ``http_client()``, ``async_http_client()`` or ``asgi_app()``.

    ```pycon
    >>> from billing_milestones import CrmComClient, OrderDraft
    >>> sandbox = CrmComSandbox()
    >>> seed = sandbox.seed_demo()
    >>> draft = OrderDraft(
    ...     account_id=seed.account_id,
    ...     supply_method="DIRECT_SALE",
    ...     delivery_method="COURIER_SERVICE",
    ...     payment_method_type="CARD",
    ...     items=[{"id": seed.products["USD"], "quantity": 3}],
    ...     queue_id=seed.queues["standard"],
    ... )
    >>> with CrmComClient(seed.secret_key, http_client=sandbox.http_client()) as client:
    ...     estimate = client.estimates.order(draft)
    >>> print(estimate.total, estimate.currency_code)
    59.97 USD

    ```
    """

    platform: ClassVar[str] = "crmcom"
    base_path: ClassVar[str] = ""
