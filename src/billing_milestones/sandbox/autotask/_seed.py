"""Setting up an Autotask tenant for tests and demos: currencies, companies, contracts, seeded milestones.

Seeding writes the state directly, without the API's rules, so a test can build what only Autotask itself
produces (a Billed milestone, a company in a currency the tenant lacks, a zone move).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ._store import (
    CONTRACT_TYPE_FIXED_PRICE,
    STATUS_BILLED,
    STATUS_NOT_READY,
    STATUS_READY,
    _now_text,
    _Store,
)


class _Seed(_Store):
    """The public helpers that shape the tenant; each takes ``self.lock``, so a running server can be seeded."""

    def add_currency(self, name: str, *, exchange_rate: Decimal | int | str = 1, internal: bool = False) -> int:
        """A Currencies row named ``name`` as written (no ISO check: tests need broken tenants too)."""
        with self.lock:
            if internal:
                for row in self.currencies.values():
                    row["isInternalCurrency"] = False
            return self._insert_currency(name, name, Decimal(str(exchange_rate)), internal=internal)

    def add_company(
        self,
        company_id: int | None = None,
        *,
        name: str = "Customer",
        currency: str | None = None,
        currency_id: int | None = None,
        exchange_rate: Decimal | int | str = 1,
    ) -> int:
        """A company billed in ``currency`` (a Currencies row is created as needed) or in the currency row
        ``currency_id``; with neither, no currencyID (its contracts bill in the internal currency)."""
        with self.lock:
            coid = company_id if company_id is not None else next(self._company_ids)
            if currency is not None and currency_id is None and self.multi_currency:
                currency_id = self._currency_row(
                    currency, internal=currency.strip().upper() == self.internal_currency, exchange_rate=exchange_rate
                )
            self.companies[coid] = {
                "id": coid,
                "companyName": name,
                "companyType": 1,
                "currencyID": currency_id,
                "isActive": True,
            }
            return coid

    def company_currency(self, company_id: int) -> str:
        """The code a company's contracts bill in (its currency row's name, else the internal currency)."""
        cuid = self.companies[company_id].get("currencyID")
        if cuid is None or not self.multi_currency:
            return self.internal_currency
        return str(self.currencies[cuid]["name"])

    def add_contract(
        self,
        contract_id: int | None = None,
        *,
        name: str = "Fixed price project",
        contract_type: int = CONTRACT_TYPE_FIXED_PRICE,
        company_id: int | None = None,
        currency: str | None = None,
        exchange_rate: Decimal | int | str = 1,
    ) -> int:
        """A contract of company ``company_id`` (created when missing). ``currency`` is the company's billing
        currency: without ``company_id`` a company billed in it is reused or created; with one that exists, it
        must match. No ``currency``: the company's, else the internal currency."""
        with self.lock:
            wanted = currency.strip().upper() if currency is not None else None
            if wanted is not None and not self.multi_currency and wanted != self.internal_currency:
                raise ValueError(
                    f"multi-currency is off: every contract bills in the internal currency "
                    f"{self.internal_currency}, not {wanted}"
                )
            if company_id is None:
                company_id = self._company_for(wanted, exchange_rate)
            elif company_id not in self.companies:
                self.add_company(
                    company_id, name=f"Customer {company_id}", currency=wanted, exchange_rate=exchange_rate
                )
            billed_in = self.company_currency(company_id)
            if wanted is not None and billed_in != wanted:
                raise ValueError(f"company {company_id} bills in {billed_in}, not {wanted}")
            cid = contract_id if contract_id is not None else next(self._contract_ids)
            self.contracts[cid] = {
                "id": cid,
                "billToCompanyID": None,
                "companyID": company_id,
                "contractName": name,
                "contractType": contract_type,
                "status": 1,
                # sandbox bookkeeping, not served: the resolved code and the rate behind internalCurrencyAmount
                "currency": billed_in,
                "exchangeRate": Decimal(str(exchange_rate)),
            }
            return cid

    def _company_for(self, currency: str | None, exchange_rate: Decimal | int | str) -> int:
        """A sandbox company billed in ``currency`` (None: one without currencyID), created on first use."""
        for coid, company in self.companies.items():
            if not company["companyName"].startswith("Sandbox customer"):
                continue
            has_row = company.get("currencyID") is not None
            if currency is None and not has_row:
                return coid
            if (
                currency is not None
                and (has_row or not self.multi_currency)
                and self.company_currency(coid) == currency
            ):
                return coid
        label = currency or "internal currency"
        return self.add_company(name=f"Sandbox customer ({label})", currency=currency, exchange_rate=exchange_rate)

    def add_milestone(
        self,
        contract_id: int,
        *,
        title: str = "Milestone",
        amount: Decimal | int | str = "1000.00",
        date_due: dt.date | str = dt.date(2026, 1, 31),
        status: int = STATUS_NOT_READY,
        is_initial_payment: bool = False,
        description: str | None = None,
        billing_code_id: int | None = None,
    ) -> int:
        """Seed a record directly (no API rules), e.g. states only Autotask's billing can produce."""
        with self.lock:
            if contract_id not in self.contracts:
                raise KeyError(f"no contract {contract_id}; call add_contract first")
            mid = next(self._ids)
            due = date_due if isinstance(date_due, str) else f"{date_due.isoformat()}T00:00:00"
            value = Decimal(str(amount))
            self.milestones[mid] = self._stored(
                {
                    "id": mid,
                    "amount": value,
                    "billingCodeID": billing_code_id,
                    "contractID": contract_id,
                    "createDate": _now_text(),
                    "creatorResourceID": self.RESOURCE_ID,
                    "dateDue": due,
                    "description": description,
                    "internalCurrencyAmount": self._internal(self.contracts[contract_id], value),
                    "isInitialPayment": is_initial_payment,
                    "organizationalLevelAssociationID": None,
                    "status": status,
                    "title": title,
                }
            )
            return mid

    def bill(self, milestone_id: int) -> None:
        """What Autotask's billing (Approve and Post) does: the milestone becomes Billed and locked."""
        with self.lock:
            self.milestones[milestone_id]["status"] = STATUS_BILLED

    def move_zone(self, host: str) -> None:
        """Emulate a datacenter move: zoneInformation answers ``host``; the old host answers 401."""
        self.zone_host = host

    def seed_demo(self) -> dict[str, int]:
        """A small tenant: a USD fixed-price contract with three milestones (one billed), a EUR one,
        and a Time & Materials contract that refuses milestones."""
        usd = self.add_contract(name="Website rebuild (fixed price)", currency="USD")
        eur = self.add_contract(name="ERP rollout (fixed price)", currency="EUR", exchange_rate="1.08")
        tm = self.add_contract(name="Support (time and materials)", contract_type=1)
        deposit = self.add_milestone(
            usd, title="Deposit", amount="5000.00", status=STATUS_BILLED, is_initial_payment=True
        )
        design = self.add_milestone(usd, title="Design sign-off", amount="7500.00", date_due=dt.date(2026, 3, 31))
        launch = self.add_milestone(
            usd, title="Launch", amount="12500.00", date_due=dt.date(2026, 6, 30), status=STATUS_READY
        )
        self.add_milestone(eur, title="Phase 1", amount="20000.00", date_due=dt.date(2026, 4, 30))
        return {
            "usd_contract": usd,
            "eur_contract": eur,
            "tm_contract": tm,
            "deposit": deposit,
            "design": design,
            "launch": launch,
        }
