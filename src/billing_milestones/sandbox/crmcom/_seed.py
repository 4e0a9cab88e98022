"""Setting up a crm.com tenant for tests and demos: order queues, products, contacts, and a demo seed.

Ids come from the sandbox's seeded generator (:meth:`new_id`), so a seeded run is repeatable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ._store import _EXPONENTS, DEMO_PASSWORD, SandboxContact, SandboxProduct, SandboxQueue, SandboxStage, _Store

__all__ = ["DemoSeed"]


@dataclass(frozen=True)
class DemoSeed:
    """Ids created by :meth:`CrmComSandbox.seed_demo`."""

    secret_key: str
    public_key: str
    contact_id: str
    account_id: str
    other_contact_id: str
    other_account_id: str
    email: str
    password: str
    queues: Mapping[str, str]
    stages: Mapping[str, list[str]]
    products: Mapping[str, str]


class _Seed(_Store):
    """The public helpers that shape the tenant or read what no documented API returns."""

    def add_queue(
        self,
        name: str,
        stages: Sequence[tuple[str, Decimal | str | int | None]],
        *,
        queue_id: str | None = None,
        default: bool = False,
        colours: Sequence[str] = ("#2F80ED", "#F2994A", "#27AE60", "#EB5757", "#9B51E0"),
    ) -> SandboxQueue:
        """An order queue: ``stages`` are ``(name, milestone percentage or None)`` in priority order."""
        built = [
            SandboxStage(
                id=self.new_id(),
                name=stage_name,
                colour=colours[i % len(colours)],
                priority=i + 1,
                milestone_percentage=None if pct is None else Decimal(str(pct)),
            )
            for i, (stage_name, pct) in enumerate(stages)
        ]
        queue = SandboxQueue(id=queue_id or self.new_id(), name=name, stages=built)
        with self.lock:
            self.queues[queue.id] = queue
            if default or self.default_queue_id is None:
                self.default_queue_id = queue.id
        return queue

    def add_product(
        self,
        name: str,
        price: Decimal | str | int,
        currency: str,
        *,
        product_id: str | None = None,
        tax_rate: Decimal | str | int = 0,
    ) -> SandboxProduct:
        code = currency.upper()
        if _EXPONENTS.get(code) is None:
            raise ValueError(f"{currency!r} is not an ISO 4217 currency with minor units")
        product = SandboxProduct(
            id=product_id or self.new_id(),
            name=name,
            price=Decimal(str(price)),
            currency=code,
            tax_rate=Decimal(str(tax_rate)),
        )
        with self.lock:
            self.products[product.id] = product
        return product

    def add_contact(
        self,
        email: str,
        password: str = DEMO_PASSWORD,
        *,
        name: str | None = None,
        contact_id: str | None = None,
        account_id: str | None = None,
    ) -> SandboxContact:
        contact = SandboxContact(
            id=contact_id or self.new_id(),
            email=email.lower(),
            password=password,
            account_id=account_id or self.new_id(),
            name=name or email.split("@")[0],
        )
        with self.lock:
            self.contacts[contact.id] = contact
        return contact

    def seed_demo(self) -> DemoSeed:
        """Queues that stress rounding, products in EUR, USD, JPY and KWD, and two contacts."""
        standard = self.add_queue(
            "Standard delivery",
            [("Deposit", 30), ("In Progress", 30), ("Completed", 40), ("Cancelled", None)],
            default=True,
        )
        thirds = self.add_queue("Thirds", [("Signed", "33.33"), ("Built", "33.33"), ("Delivered", "33.34")])
        no_ms = self.add_queue("No milestones", [("New", None), ("Completed", None)])
        products = {
            "EUR": self.add_product("Consulting day", "1234.56", "EUR", tax_rate=19),
            "USD": self.add_product("Widget", "19.99", "USD"),
            "JPY": self.add_product("Tea set", 12345, "JPY", tax_rate=10),
            "KWD": self.add_product("Service plan", "10.005", "KWD"),
        }
        ada = self.add_contact("ada@example.com", DEMO_PASSWORD, name="Ada Lovelace")
        bob = self.add_contact("bob@example.com", DEMO_PASSWORD, name="Bob Babbage")
        queues = {"standard": standard, "thirds": thirds, "no_milestones": no_ms}
        return DemoSeed(
            secret_key=next(iter(sorted(self.secret_keys))),
            public_key=next(iter(sorted(self.public_keys))),
            contact_id=ada.id,
            account_id=ada.account_id,
            other_contact_id=bob.id,
            other_account_id=bob.account_id,
            email=ada.email,
            password=DEMO_PASSWORD,
            queues={k: q.id for k, q in queues.items()},
            stages={k: [s.id for s in q.stages] for k, q in queues.items()},
            products={k: p.id for k, p in products.items()},
        )

    def order_milestone_plan(self, order_id: str) -> list[dict[str, Any]]:
        """The plan an order was submitted with (crm.com documents no API that returns it)."""
        return list(self.orders[order_id]["_milestone_plan"])
