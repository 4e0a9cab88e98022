"""Money arithmetic and conversions against the plain ``Decimal`` code a caller would write instead."""

from __future__ import annotations

import decimal
import timeit
from collections.abc import Callable
from decimal import Decimal

from billing_milestones import Money

A, B = Money("1234.56", "USD"), Money("0.44", "USD")
DA, DB = Decimal("1234.56"), Decimal("0.44")
CENT = Decimal("0.01")
#: What plain code would use for money it must not round: an exact context (Inexact trapped).
EXACT = decimal.Context(prec=60, traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow])
PA, PB = (DA, "USD"), (DB, "USD")
Plain = tuple[Decimal, str]


def plain_add(a: Plain, b: Plain) -> Plain:
    """The baseline: a (Decimal, currency) pair, the same currency check and the same exact context."""
    if a[1] != b[1]:
        raise ValueError("currencies differ")
    return EXACT.add(a[0], b[0]), a[1]


def plain_sub(a: Plain, b: Plain) -> Plain:
    if a[1] != b[1]:
        raise ValueError("currencies differ")
    return EXACT.subtract(a[0], b[0]), a[1]


def plain_from_text(text: str, currency: str) -> Plain:
    amount = Decimal(text)
    if not amount.is_finite():
        raise ValueError(text)
    return amount, currency


def plain_to_minor(a: Plain) -> int:
    scaled = EXACT.scaleb(a[0], 2)
    if scaled != scaled.to_integral_value():
        raise ValueError("fraction of a cent")
    return int(scaled)


#: name -> (ours, plain Decimal code doing the same job)
CASES: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
    "add": (lambda: A + B, lambda: plain_add(PA, PB)),
    "subtract": (lambda: A - B, lambda: plain_sub(PA, PB)),
    "multiply by 3": (lambda: A * 3, lambda: (EXACT.multiply(DA, 3), "USD")),
    "compare": (lambda: A < B, lambda: PA[1] == PB[1] and DA < DB),
    "from text": (lambda: Money("1234.56", "USD"), lambda: plain_from_text("1234.56", "USD")),
    "from minor units": (lambda: Money.from_minor(123456, "USD"), lambda: (EXACT.scaleb(Decimal(123456), -2), "USD")),
    "to minor units": (lambda: A.to_minor(), lambda: plain_to_minor(PA)),
    "quantize": (lambda: A.quantize(), lambda: (DA.quantize(CENT, context=EXACT), "USD")),
}


def paired(ours: Callable[[], object], plain: Callable[[], object], number: int) -> tuple[float, float]:
    """The best time per call of each, measured in alternating rounds (the machine's drift hits both)."""
    best_ours = best_plain = float("inf")
    for _ in range(7):
        best_ours = min(best_ours, timeit.timeit(ours, number=number) / number)
        best_plain = min(best_plain, timeit.timeit(plain, number=number) / number)
    return best_ours, best_plain


def bench_money(number: int = 20_000) -> list[str]:
    rows = []
    for name, (ours, plain) in CASES.items():
        t_ours, t_plain = paired(ours, plain, number)
        rows.append(
            f"money {name}: ours {t_ours * 1e9:.0f} ns, plain Decimal {t_plain * 1e9:.0f} ns "
            f"-> ratio {t_ours / t_plain:.2f}"
        )
    return rows


if __name__ == "__main__":
    print("\n".join(bench_money()))
