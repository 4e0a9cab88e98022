"""Equivalent mutants in the mutation driver: matched by the line they write, left out of the score, reported
with their reason, and every listed entry still pointing at a function that exists."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]

MUL = "billing_milestones.money.xǁMoneyǁ__mul____mutmut_6"
DIFF = """\
# billing_milestones.money.xǁMoneyǁ__mul____mutmut_6: survived
--- src/billing_milestones/money.py
+++ src/billing_milestones/money.py
@@ -1,3 +1,3 @@
 def __mul__(self, factor):
-    by = factor if type(factor) is int else to_decimal(factor)
+    by = factor if (type(factor) is int) and False else to_decimal(factor)
"""


@pytest.fixture
def driver(monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, ModuleType]:
    monkeypatch.syspath_prepend(str(ROOT))
    return importlib.import_module("mutation.targets"), importlib.import_module("mutation.results")


def entry(targets: ModuleType, mutated: str, function: str = "Money.__mul__") -> object:
    return targets.Equivalent("src/billing_milestones/money.py", function, mutated, "same product")


def test_an_equivalent_mutant_is_matched_by_its_function_and_the_line_it_writes(
    driver: tuple[ModuleType, ModuleType],
) -> None:
    targets, _ = driver
    same = entry(targets, "by = factor if (type(factor) is int) and False else to_decimal(factor)")
    assert same.could_be(MUL) and same.matches(MUL, DIFF)  # type: ignore[attr-defined]
    # Another line of the same function (its numbers moved after an edit) is a real survivor again.
    other = entry(targets, "by = factor if type(None) is int else to_decimal(factor)")
    assert not other.matches(MUL, DIFF)  # type: ignore[attr-defined]
    # The same line in another function is not excused either.
    elsewhere = entry(
        targets, "by = factor if (type(factor) is int) and False else to_decimal(factor)", "Money.__add__"
    )
    assert not elsewhere.could_be(MUL) and not elsewhere.matches(MUL, DIFF)  # type: ignore[attr-defined]


def test_an_equivalent_survivor_leaves_the_score_and_is_reported_with_its_reason(
    driver: tuple[ModuleType, ModuleType],
) -> None:
    targets, results = driver
    verdicts = {
        MUL: "survived",
        "billing_milestones.money.xǁMoneyǁ__mul____mutmut_8": "survived",
        "billing_milestones.money.xǁMoneyǁ__mul____mutmut_1": "killed",
    }
    money = targets.Target("src/billing_milestones/money.py", goal=95.0)
    scored = results.score(money, verdicts, {MUL: "same product"})
    assert (scored.detected, scored.tested, scored.survivors) == (
        1,
        2,
        ("billing_milestones.money.xǁMoneyǁ__mul____mutmut_8",),
    )
    assert scored.equivalent == ((MUL, "same product"),)
    text = results.render([scored])
    assert text.splitlines()[-2:] == [
        "equivalent mutants (1), not scored (mutation/equivalents.py says why):",
        f"  {MUL}: same product",
    ]
    assert results.score(money, verdicts).tested == 3  # without the list, it is a survivor like any other
    alone = results.score(money, {MUL: "survived"}, {MUL: "same product"})
    assert alone.tested == 0 and "no surviving mutants" in results.render([alone])


def _functions(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.update(f"{node.name}.{f.name}" for f in node.body if isinstance(f, ast.FunctionDef))
    return names


def test_every_listed_equivalent_names_a_target_function_that_exists_and_says_why(
    driver: tuple[ModuleType, ModuleType],
) -> None:
    targets, _ = driver
    paths = {t.path for t in targets.TARGETS}
    for e in importlib.import_module("mutation.equivalents").EQUIVALENT:
        assert e.path in paths, e
        assert e.function in _functions(ROOT / e.path), e
        assert e.mutated.strip() == e.mutated and e.mutated, e
        assert len(e.reason) > 20, e


def test_an_entry_near_one_occurrence_excuses_that_occurrence_only(driver: tuple[ModuleType, ModuleType]) -> None:
    targets, _ = driver
    name = "billing_milestones.sync.plan.x__plan__mutmut_108"
    change = "-                claimed.add(t.key.id)\n+                claimed.add(None)\n"
    first, second = f"     except TranslationError as exc:\n{change}", f"     if t is None and link is None:\n{change}"
    e = targets.Equivalent("src/billing_milestones/sync/plan.py", "_plan", "claimed.add(None)", "why", near="except")
    assert e.matches(name, first) and not e.matches(name, second)
