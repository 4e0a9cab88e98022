"""The mutation driver (mutation/): which mutants a target owns, how a score is counted, what it prints."""

from __future__ import annotations

import fnmatch
import importlib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def driver(monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, ModuleType]:
    monkeypatch.syspath_prepend(str(ROOT))
    return importlib.import_module("mutation.targets"), importlib.import_module("mutation.results")


RESULTS = """\
    billing_milestones.money.x_to_decimal__mutmut_1: killed
    billing_milestones.money.x_to_decimal__mutmut_2: survived
    billing_milestones.money.xǁMoneyǁ__lt____mutmut_1: timeout
    billing_milestones.money.xǁMoneyǁ__lt____mutmut_10: no tests
    billing_milestones.money.xǁMoneyǁ__lt____mutmut_3: not checked
    billing_milestones._http._core.xǁClientCoreǁshould_retry__mutmut_4: survived
    billing_milestones._http._core.xǁClientCoreǁurl_for__mutmut_1: survived
"""


def test_a_narrowed_target_owns_only_its_functions(driver: tuple[ModuleType, ModuleType]) -> None:
    targets, _ = driver
    core = targets.Target("src/billing_milestones/_http/_core.py", goal=90.0, functions=("ClientCore.should_retry",))
    assert core.module == "billing_milestones._http._core"
    assert core.label == "_http/_core.py"
    assert core.owns("billing_milestones._http._core.xǁClientCoreǁshould_retry__mutmut_4")
    assert not core.owns("billing_milestones._http._core.xǁClientCoreǁurl_for__mutmut_1")
    assert not core.owns("billing_milestones._http._other.xǁClientCoreǁshould_retry__mutmut_4")
    assert core.patterns() == ["billing_milestones._http._core.xǁClientCoreǁshould_retry__mutmut_*"]
    assert targets.mangled("to_decimal") == "x_to_decimal"


def test_the_sample_is_a_fixed_share_of_each_module(driver: tuple[ModuleType, ModuleType]) -> None:
    targets, _ = driver
    money = targets.Target("src/billing_milestones/money.py", goal=95.0)
    sample = targets.Sample(targets=(money,), digits="37", threshold=80.0)
    names = [f"billing_milestones.money.x_f__mutmut_{n}" for n in range(1, 41)]
    chosen = [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in sample.patterns())]
    assert [int(n.rpartition("_")[2]) for n in chosen] == [3, 7, 13, 17, 23, 27, 33, 37]
    assert not fnmatch.fnmatchcase("billing_milestones.money_x.x_f__mutmut_3", sample.patterns()[0])


def test_no_tests_counts_as_survived_and_unrun_mutants_do_not_count(driver: tuple[ModuleType, ModuleType]) -> None:
    targets, results = driver
    verdicts = results.parse_results(RESULTS)
    assert len(verdicts) == 7
    money = results.score(targets.Target("src/billing_milestones/money.py", goal=50.0), verdicts)
    assert (money.detected, money.tested) == (2, 4)
    assert money.survivors == (
        "billing_milestones.money.x_to_decimal__mutmut_2",
        "billing_milestones.money.xǁMoneyǁ__lt____mutmut_10",
    )
    assert money.percent == 50.0 and money.meets_goal
    empty = results.score(targets.Target("src/billing_milestones/sync/plan.py", goal=0.0), verdicts)
    assert empty.tested == 0 and not empty.meets_goal and empty.percent == 0.0


def test_the_report_lists_scores_goals_and_every_survivor_with_its_diff(
    driver: tuple[ModuleType, ModuleType],
) -> None:
    targets, results = driver
    verdicts = results.parse_results(RESULTS)
    money = results.score(targets.Target("src/billing_milestones/money.py", goal=95.0), verdicts)
    core = results.score(
        targets.Target("src/billing_milestones/_http/_core.py", goal=90.0, functions=("ClientCore.url_for",)), {}
    )
    text = results.render([money, core], {"billing_milestones.money.x_to_decimal__mutmut_2": "-a < b\n+a <= b"})
    lines = text.splitlines()
    assert lines[1] == "money.py               2/4        50.0 %    95 %  BELOW GOAL"
    assert lines[3] == "all                               50.0 %"
    assert "surviving mutants (2)" in text
    assert "  billing_milestones.money.x_to_decimal__mutmut_2\n      -a < b\n      +a <= b" in text
    assert results.render([core]).endswith("no surviving mutants")


def test_only_refuses_a_path_that_is_not_a_target(
    driver: tuple[ModuleType, ModuleType], capsys: pytest.CaptureFixture[str]
) -> None:
    main = importlib.import_module("mutation.__main__").main
    with pytest.raises(SystemExit) as exit_:
        main(["--only", "sync/nope.py"])
    assert exit_.value.code == 2
    assert "--only: not a target: sync/nope.py" in capsys.readouterr().err


def test_the_moved_fingerprint_and_the_kantata_reader_are_mutated(driver: tuple[ModuleType, ModuleType]) -> None:
    targets, _ = driver
    assert {"sync/_fingerprint.py", "kantata/_read.py"} <= {t.label for t in targets.TARGETS}


def test_every_target_is_a_file_mutmut_mutates(driver: tuple[ModuleType, ModuleType]) -> None:
    """A target missing from ``[tool.mutmut] only_mutate`` gets no mutants: its run fails ("nothing matches")
    and the sample would silently score none of it (sync/_whole_set.py was such a target)."""
    import tomllib

    targets, _ = driver
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]["only_mutate"]
    unmutated = [t.path for t in targets.TARGETS if not any(fnmatch.fnmatchcase(t.path, p) for p in patterns)]
    assert unmutated == []
