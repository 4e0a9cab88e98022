"""What is mutated, the goal for each module, and the fixed sample CI runs.

The list lives here, not only in ``[tool.mutmut] only_mutate``, because ``_http/_core.py`` counts only its
retry decision: the rest of that module builds requests and errors and is not where a retry bug hides.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SAMPLE", "TARGETS", "Equivalent", "Sample", "Target"]


@dataclass(frozen=True)
class Target:
    """One source file under test, optionally narrowed to some of its functions."""

    path: str
    goal: float
    #: ``name`` for a module function, ``Class.method`` for a method; empty means the whole module.
    functions: tuple[str, ...] = ()

    @property
    def module(self) -> str:
        """The dotted module name mutmut puts in front of each mutant's name."""
        return self.path.removeprefix("src/").removesuffix(".py").replace("/", ".")

    @property
    def label(self) -> str:
        return self.path.removeprefix("src/billing_milestones/")

    def patterns(self, numbers: str = "") -> list[str]:
        """mutmut name globs for this target's mutants; ``numbers`` narrows them to mutant numbers ending so."""
        suffix = f"__mutmut_*[{numbers}]" if numbers else "__mutmut_*"
        if not self.functions:
            return [f"{self.module}.x*{suffix}"]
        return [f"{self.module}.{mangled(name)}{suffix}" for name in self.functions]

    def owns(self, mutant: str) -> bool:
        """Whether a mutant name belongs to this target (module, and function when narrowed)."""
        prefix, _, _ = mutant.partition("__mutmut_")
        module, _, function = prefix.rpartition(".")
        if module != self.module:
            return False
        return not self.functions or function in {mangled(name) for name in self.functions}


def mangled(name: str) -> str:
    """mutmut's name for a function (``x_name``) or a method (``xǁClassǁmethod``)."""
    cls, _, method = name.rpartition(".")
    return f"xǁ{cls}ǁ{method}" if cls else f"x_{name}"


@dataclass(frozen=True)
class Equivalent:
    """A mutant that behaves exactly as the code it replaces, so no test can kill it, and why.

    It is named by the line mutmut writes, not by its number: mutmut numbers a function's mutants in order,
    so an edit to the function renumbers them, and a number would then excuse some other, real survivor. A
    rewrite that changes the line leaves the entry matching nothing, and the mutant counts again.
    """

    path: str
    #: ``name`` or ``Class.method``, as in :attr:`Target.functions`.
    function: str
    #: The mutated line as ``mutmut show`` prints it after its ``+``, without the indentation.
    mutated: str
    reason: str
    #: Text the diff must also show (its context lines) when the mutated line occurs more than once in the
    #: function, so that only the one occurrence is excused.
    near: str = ""

    def could_be(self, mutant: str) -> bool:
        """Whether ``mutant`` is in this entry's function (then its diff decides)."""
        return Target(self.path, goal=0.0, functions=(self.function,)).owns(mutant)

    def matches(self, mutant: str, diff: str) -> bool:
        """Whether ``mutant``, whose ``mutmut show`` output is ``diff``, is this equivalent mutant."""
        added = [line[1:].strip() for line in diff.splitlines() if line.startswith("+") and not line.startswith("++")]
        return self.could_be(mutant) and added == [self.mutated] and self.near in diff


@dataclass(frozen=True)
class Sample:
    """A bounded, fixed subset for CI: the same mutants every run, so a drop in score is the tests' doing."""

    targets: tuple[Target, ...]
    #: Mutants whose number ends in one of these digits (about a tenth of the mutants per digit).
    digits: str
    threshold: float

    def patterns(self) -> list[str]:
        return [p for target in self.targets for p in target.patterns(self.digits)]


_PKG = "src/billing_milestones"

TARGETS: tuple[Target, ...] = (
    Target(f"{_PKG}/money.py", goal=95.0),
    # Money's currency checks and exponents (moved out of money.py): a wrong exponent is a 10x or 100x amount.
    Target(f"{_PKG}/_currency.py", goal=95.0),
    Target(f"{_PKG}/kantata/adapter.py", goal=95.0),
    # A Kantata listing's one-step reader (beside to_milestone): a wrong branch is a wrong amount or status.
    Target(f"{_PKG}/kantata/_read.py", goal=95.0),
    Target(f"{_PKG}/autotask/adapter.py", goal=95.0),
    # An Autotask listing's one-step readers (beside the wire model and to_milestone): a wrong check takes a
    # value the model refuses (a boolean id, a rounded amount), a wrong branch a wrong amount or status.
    Target(f"{_PKG}/autotask/_page.py", goal=95.0),
    Target(f"{_PKG}/autotask/_read.py", goal=95.0),
    # A Kantata bulk create's one-step bodies and the tie-back of its reply: a wrong branch is a wrong amount
    # sent, or a created milestone taken for another's (its link, and so the next run, on the wrong one).
    Target(f"{_PKG}/kantata/_write.py", goal=95.0),
    Target(f"{_PKG}/kantata/_tie.py", goal=95.0),
    Target(f"{_PKG}/crmcom/adapter.py", goal=95.0),
    Target(f"{_PKG}/sync/plan.py", goal=90.0),
    # Moved out of plan.py and _rows.py (targets both): a listing's repeat refused before planning, and a
    # row's amount kept as minor units (a wrong branch there is a wrong amount compared or written).
    Target(f"{_PKG}/sync/_repeats.py", goal=90.0),
    # Moved out of plan.py: a whole-set target's stages the source has none for (a wrong branch drops one).
    Target(f"{_PKG}/sync/_whole_set.py", goal=90.0),
    Target(f"{_PKG}/sync/_minor.py", goal=95.0),
    Target(f"{_PKG}/sync/apply.py", goal=90.0),
    Target(f"{_PKG}/sync/translate.py", goal=90.0),
    # The fingerprint moved out of translate.py: a wrong one silently skips an update or rewrites every link.
    Target(f"{_PKG}/sync/_fingerprint.py", goal=90.0),
    Target(f"{_PKG}/sync/triggers.py", goal=90.0),
    # The plan JSON and PlannedAction scripts read, and the table a person reads: every key, kind and verdict.
    Target(f"{_PKG}/sync/actions.py", goal=90.0),
    Target(f"{_PKG}/_http/_retry.py", goal=90.0),
    Target(
        f"{_PKG}/_http/_core.py",
        goal=90.0,
        functions=(
            "ClientCore.max_retries_for",
            "ClientCore.should_retry",
            "ClientCore._hint_verdict",
            "ClientCore.retry_hint",
        ),
    ),
)

#: The part of sync/actions.py a script reads (the counts and the JSON); the table a person reads is left to
#: the full run, its style and column literals being most of the module's mutants. (mutmut does not mutate
#: decorated functions, so the properties - ``writes``, ``findings``, ``is_noop`` - have no mutants at all;
#: tests/sync/test_actions_mutants.py pins them directly.)
_PLAN_AS_DATA = Target(
    f"{_PKG}/sync/actions.py",
    goal=90.0,
    functions=(
        "PlannedAction.to_json",
        "SyncPlan.counts",
        "SyncPlan.to_json",
        "SyncPlan.to_json_text",
        "SyncPlan.summary",
    ),
)


def _target(label: str) -> Target:
    return next(t for t in TARGETS if t.label == label)


#: money.py with its currency checks (_currency.py, split from it), the planner and the plan as data.
SAMPLE = Sample(
    targets=(_target("money.py"), _target("_currency.py"), _target("sync/plan.py"), _PLAN_AS_DATA),
    digits="37",
    threshold=85.0,
)
