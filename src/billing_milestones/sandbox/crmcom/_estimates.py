"""The crm.com emulator's estimates: an order priced from its items, and its milestone plan checked and priced.

Amount = total x percentage / 100 (the percentage falling back to the stage's ``queue_percentage`` when no
milestones are sent), exact Decimal quantised to the currency exponent half-even, the last milestone absorbing the
rounding when the set covers the whole total. Written independently of the client's adapter and rules on
purpose, so the tests compare two implementations rather than one with itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import httpx

from .._emulator import SandboxRequest, json_response
from ._store import _EXPONENTS, _HUNDRED, SandboxQueue, SandboxStage, _Estimation, _json_object, _Refused, _Store


class _Estimates(_Store):
    """``POST /estimates/orders`` and the pricing behind it; an estimation is stored for Submit Order."""

    def _estimate(self, request: SandboxRequest) -> httpx.Response:
        principal = self._principal(request)
        body = _json_object(request)
        for name in ("account_id", "supply_method", "delivery_method", "payment_method_type"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise _Refused(400, f"{name} is required", "MISSING_PARAMETER", {"field": name})
        account_id = body["account_id"]
        owner = next((c for c in self.contacts.values() if c.account_id == account_id), None)
        if owner is None:
            raise _Refused(404, f"Account {account_id} not found", "NOT_FOUND", {"field": "account_id"})
        if principal.contact_id is not None and principal.contact_id != owner.id:
            raise _Refused(403, "The account does not belong to the authenticated contact", "FORBIDDEN")
        currency, net, tax = self._price_items(body.get("items"))
        total = net + tax
        queue = self._queue_for(body.get("queue_id"))
        estimation_id = body.get("estimation_id")
        if estimation_id is not None:
            previous = self.estimations.get(estimation_id) if isinstance(estimation_id, str) else None
            if previous is None:
                raise _Refused(404, f"Estimation {estimation_id} not found", "NOT_FOUND", {"field": "estimation_id"})
            if previous.account_id != account_id:
                raise _Refused(400, "The estimation belongs to another account", "INVALID_ESTIMATION")
            if previous.submitted:
                raise _Refused(400, "The estimation was already submitted as an order", "ESTIMATION_SUBMITTED")
        else:
            estimation_id = self.new_id()
        if "milestones" in body and body["milestones"] is not None:
            plan = self._explicit_plan(body["milestones"], queue, total, currency)
        else:
            plan = self._default_plan(queue, total, currency)
        exp = _exponent(currency)
        invoice = {
            "currency_code": currency,
            "net": net,
            "discount": _q(Decimal(0), exp),
            "discount_incl_tax": _q(Decimal(0), exp),
            "tax": tax,
            "total": total,
            "amount_due": total,
            "amount_to_collect": total,
            "total_price": total,
            "wallet_funds_amount": _q(Decimal(0), exp),
            "account_credit": _q(Decimal(0), exp),
        }
        summary = {
            "queue": {"id": queue.id, "name": queue.name},
            "fulfilled_by": {"id": "merchant-sandbox", "name": "Sandbox merchant"},
            "ordering_allowed": True,
        }
        response = {
            "id": estimation_id,
            "order_estimate": summary,
            "milestone_plan_estimate": plan,
            "invoice_estimate": invoice,
            "orders": [{"order_estimate": summary, "invoice_estimate": invoice, "milestone_plan_estimate": plan}],
        }
        self.estimations[estimation_id] = _Estimation(estimation_id, account_id, queue, currency, total, response, plan)
        return json_response(200, response)

    def _price_items(self, items: Any) -> tuple[str, Decimal, Decimal]:
        if not isinstance(items, list) or not items:
            raise _Refused(400, "items is required (at least one)", "MISSING_PARAMETER", {"field": "items"})
        currency: str | None = None
        net = tax = Decimal(0)
        for i, item in enumerate(items):
            where = f"items[{i}]"
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise _Refused(400, f"{where}.id is required", "MISSING_PARAMETER", {"field": f"{where}.id"})
            product = self.products.get(item["id"])
            if product is None:
                raise _Refused(404, f"Product {item['id']} not found", "NOT_FOUND", {"field": f"{where}.id"})
            quantity = item.get("quantity", 1)
            if not _is_number(quantity) or quantity <= 0:
                raise _Refused(
                    400, f"{where}.quantity must be positive", "INVALID_PARAMETER", {"field": f"{where}.quantity"}
                )
            price = item.get("price", product.price)
            if not _is_number(price) or price < 0:
                raise _Refused(
                    400,
                    f"{where}.price must be a non-negative number",
                    "INVALID_PARAMETER",
                    {"field": f"{where}.price"},
                )
            if currency is not None and product.currency != currency:
                raise _Refused(
                    400, "All items of an order must share one currency", "CURRENCY_MISMATCH", {"field": where}
                )
            currency = product.currency
            exp = _exponent(currency)
            line = _q(Decimal(price) * Decimal(quantity), exp)
            net += line
            tax += _q(line * product.tax_rate / _HUNDRED, exp)
        assert currency is not None
        exp = _exponent(currency)
        return currency, _q(net, exp), _q(tax, exp)

    def _queue_for(self, queue_id: Any) -> SandboxQueue:
        if queue_id is None:
            if self.default_queue_id is None:
                raise _Refused(400, "No order queue is configured", "NO_QUEUE")
            return self.queues[self.default_queue_id]
        queue = self.queues.get(queue_id) if isinstance(queue_id, str) else None
        if queue is None:
            raise _Refused(404, f"Order queue {queue_id} not found", "NOT_FOUND", {"field": "queue_id"})
        return queue

    def _default_plan(self, queue: SandboxQueue, total: Decimal, currency: str) -> list[dict[str, Any]]:
        stages = queue.milestone_stages()
        pcts = [s.milestone_percentage or Decimal(0) for s in stages]
        amounts = _split(total, [(None, p) for p in pcts], _exponent(currency))
        return [
            {"stage": s.wire(), "queue_percentage": s.milestone_percentage, "percentage": None, "amount": a}
            for s, a in zip(stages, amounts, strict=True)
        ]

    def _explicit_plan(
        self, milestones: Any, queue: SandboxQueue, total: Decimal, currency: str
    ) -> list[dict[str, Any]]:
        """Validate a sent milestone set the way crm.com's prose describes, then price it."""
        if not isinstance(milestones, list):
            raise _Refused(400, "milestones must be an array", "INVALID_MILESTONES", {"field": "milestones"})
        exp = _exponent(currency)
        seen: set[str] = set()
        entries: list[tuple[Decimal | None, Decimal | None]] = []
        stages: list[SandboxStage] = []
        for i, m in enumerate(milestones):
            where = f"milestones[{i}]"
            if not isinstance(m, dict):
                raise _Refused(400, f"{where} must be an object", "INVALID_MILESTONES", {"field": where, "index": i})
            stage_id = m.get("stage_id")
            params = {"field": f"{where}.stage_id", "index": i, "stage_id": stage_id}
            if not isinstance(stage_id, str) or not stage_id:
                raise _Refused(400, f"{where}: stage_id is required", "INVALID_MILESTONES", params)
            stage = queue.stage(stage_id)
            if stage is None or stage.milestone_percentage is None:
                raise _Refused(
                    400,
                    f"{where}: stage {stage_id} is not a milestone stage of queue {queue.name}",
                    "INVALID_MILESTONE_STAGE",
                    params,
                )
            if stage_id in seen:
                raise _Refused(
                    400, f"{where}: stage {stage_id} has more than one milestone", "DUPLICATE_MILESTONE_STAGE", params
                )
            seen.add(stage_id)
            pct, amount = m.get("percentage"), m.get("amount")
            params = {"field": where, "index": i, "stage_id": stage_id}
            if pct is not None and amount is not None:
                raise _Refused(400, f"{where}: set either percentage or amount, not both", "INVALID_MILESTONES", params)
            if pct is None and amount is None:
                raise _Refused(400, f"{where}: percentage or amount is required", "INVALID_MILESTONES", params)
            value = pct if pct is not None else amount
            name = "percentage" if pct is not None else "amount"
            params = {"field": f"{where}.{name}", "index": i, "stage_id": stage_id}
            if value is None or not _is_number(value):
                raise _Refused(400, f"{where}: {name} must be a number", "INVALID_MILESTONES", params)
            if Decimal(value) < 0:
                raise _Refused(400, f"{where}: {name} must not be negative", "INVALID_MILESTONES", params)
            if amount is not None and Decimal(amount) != _q(Decimal(amount), exp):
                raise _Refused(
                    400,
                    f"{where}: amount {amount} has more decimals than {currency} allows",
                    "INVALID_MILESTONES",
                    params,
                )
            entries.append((Decimal(amount) if amount is not None else None, Decimal(pct) if pct is not None else None))
            stages.append(stage)
        pct_sum = sum((p for _, p in entries if p is not None), Decimal(0))
        if pct_sum > _HUNDRED:
            raise _Refused(
                400, f"Milestone percentages sum to {pct_sum}, above 100", "INVALID_MILESTONES", {"field": "milestones"}
            )
        committed = sum((a if a is not None else total * (p or 0) / _HUNDRED for a, p in entries), Decimal(0))
        if committed > total:
            raise _Refused(
                400,
                f"Milestone amounts sum to {committed}, above the order total {total}",
                "MILESTONES_EXCEED_TOTAL",
                {"field": "milestones"},
            )
        amounts = _split(total, entries, exp)
        return [
            {"stage": s.wire(), "queue_percentage": s.milestone_percentage, "percentage": p, "amount": a}
            for s, (_, p), a in zip(stages, entries, amounts, strict=True)
        ]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def _exponent(currency: str) -> int:
    exp = _EXPONENTS.get(currency)
    return 2 if exp is None else int(exp)


def _q(value: Decimal, exponent: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_EVEN)


def _split(total: Decimal, entries: Sequence[tuple[Decimal | None, Decimal | None]], exponent: int) -> list[Decimal]:
    """Each (amount, percentage) entry priced: amounts as given, percentages as total x pct / 100 half-even.

    When the exact values of the whole set add up to the total, the last percentage entry absorbs the rounding,
    so the plan sums to the order total to the minor unit.
    """
    exact = [a if a is not None else total * (p or Decimal(0)) / _HUNDRED for a, p in entries]
    rounded = [_q(a, exponent) if a is not None else _q(e, exponent) for (a, _), e in zip(entries, exact, strict=True)]
    pct_positions = [i for i, (a, _) in enumerate(entries) if a is None]
    if pct_positions and sum(exact, Decimal(0)) == total:
        last = pct_positions[-1]
        rounded[last] = _q(total - sum((r for i, r in enumerate(rounded) if i != last), Decimal(0)), exponent)
    return rounded
