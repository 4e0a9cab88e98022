"""Setting up a Kantata account for tests and demos: workspaces, stories, milestones, invoices, a demo seed.

Each helper takes ``self.lock``, so a served sandbox can be seeded while it runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ...money import currency_exponent
from ._store import Record, _Invalid, _public, _Store


class _Seed(_Store):
    """The public helpers that shape the account or read a milestone as the API would return it."""

    def add_workspace(
        self,
        title: str = "Project",
        *,
        currency: str = "USD",
        currency_base_unit: int | None = None,
        currency_symbol: str | None = None,
    ) -> str:
        """A workspace; ``currency_base_unit`` defaults to 10**(ISO exponent) (USD 100, JPY 1, KWD 1000)."""
        with self.lock:
            ident = self._next_id("workspaces")
            now = self._now()
            base_unit = currency_base_unit if currency_base_unit is not None else 10 ** currency_exponent(currency)
            self.workspaces[ident] = {
                "id": ident,
                "title": title,
                "currency": currency.upper(),
                "currency_base_unit": base_unit,
                "currency_symbol": currency_symbol or currency.upper(),
                "created_at": now,
                "updated_at": now,
            }
            return ident

    def add_story(self, workspace_id: str, title: str = "Task", *, state: str = "not started") -> str:
        with self.lock:
            if workspace_id not in self.workspaces:
                raise KeyError(f"no workspace {workspace_id}")
            ident = self._next_id("stories")
            now = self._now()
            self.stories[ident] = {
                "id": ident,
                "title": title,
                "state": state,
                "story_type": "task",
                "workspace_id": workspace_id,
                "parent_id": None,
                "created_at": now,
                "updated_at": now,
                "_seq": next(self._seq),
            }
            return ident

    def complete_story(self, story_id: str) -> None:
        """Mark a story completed, which makes its ``upon_completion`` milestones billable."""
        with self.lock:
            self.stories[story_id]["state"] = "completed"
            self.stories[story_id]["updated_at"] = self._now()

    def add_milestone(
        self,
        workspace_id: str,
        title: str = "Milestone",
        amount_in_cents: int = 0,
        *,
        date_to_invoice: dt.date | str | None = None,
        billing_type: str = "fixed_date",
        story_id: str | None = None,
        external_reference: Mapping[str, Any] | None = None,
    ) -> str:
        """Insert a milestone with the same validation as the API (raises ValueError when it would refuse)."""
        item = {
            "workspace_id": workspace_id,
            "title": title,
            "amount_in_cents": amount_in_cents,
            "date_to_invoice": date_to_invoice.isoformat() if isinstance(date_to_invoice, dt.date) else date_to_invoice,
            "billing_type": billing_type,
            "story_id": story_id,
            "external_reference": dict(external_reference) if external_reference is not None else None,
        }
        with self.lock:
            try:
                fields, ref = self._validate_new(item)
            except _Invalid as exc:
                raise ValueError(f"sandbox would refuse this milestone: {exc.items}") from None
            return str(self._insert(fields, ref)["id"])

    def invoice(self, milestone_id: str, *, draft: bool = False) -> str:
        """Put a milestone on a new invoice, which locks it against edits and deletes."""
        with self.lock:
            milestone = self.milestones[milestone_id]
            workspace = self.workspaces[milestone["workspace_id"]]
            ident = self._next_id("invoices")
            now = self._now()
            self.invoices[ident] = {
                "id": ident,
                "status": "new",
                "draft": draft,
                "currency": workspace["currency"],
                "currency_base_unit": workspace["currency_base_unit"],
                "currency_symbol": workspace["currency_symbol"],
                "balance_in_cents": milestone["amount_in_cents"],
                "created_at": now,
                "updated_at": now,
            }
            milestone["invoice_id"] = ident
            milestone["updated_at"] = now
            return ident

    def milestone(self, milestone_id: str) -> Record:
        """The stored milestone as the API would return it (without side-loads)."""
        with self.lock:
            return _public(self.milestones[milestone_id])

    def seed_demo(self) -> dict[str, Any]:
        """Three workspaces (USD, JPY, KWD) with stories and milestones, one invoiced, one story completed."""
        usd = self.add_workspace("Website relaunch", currency="USD")
        jpy = self.add_workspace("Tokyo rollout", currency="JPY")
        kwd = self.add_workspace("Kuwait ERP", currency="KWD")
        design = self.add_story(usd, "Design sign-off")
        build = self.add_story(usd, "Build")
        localise = self.add_story(jpy, "Localisation")
        go_live = self.add_story(kwd, "Go-live")
        self.complete_story(design)
        milestones = {
            "usd_deposit": self.add_milestone(usd, "Deposit", 500000, date_to_invoice="2026-02-01"),
            "usd_design": self.add_milestone(
                usd, "Design approved", 1250050, billing_type="upon_completion", story_id=design
            ),
            "usd_build": self.add_milestone(
                usd, "Build complete", 2000000, billing_type="upon_completion", story_id=build
            ),
            "usd_credit": self.add_milestone(usd, "Goodwill credit", -10000, date_to_invoice="2026-04-01"),
            "jpy_kickoff": self.add_milestone(jpy, "Kick-off", 1500000, date_to_invoice="2026-03-01"),
            "jpy_localise": self.add_milestone(
                jpy, "Localisation done", 2750000, billing_type="upon_completion", story_id=localise
            ),
            "kwd_license": self.add_milestone(kwd, "Licences", 12345678, date_to_invoice="2026-02-15"),
            "kwd_go_live": self.add_milestone(
                kwd, "Go-live", 5000125, billing_type="upon_completion", story_id=go_live
            ),
        }
        invoice = self.invoice(milestones["usd_deposit"])
        return {
            "workspaces": {"USD": usd, "JPY": jpy, "KWD": kwd},
            "stories": {"design": design, "build": build, "localise": localise, "go_live": go_live},
            "milestones": milestones,
            "invoices": {"usd_deposit": invoice},
        }
