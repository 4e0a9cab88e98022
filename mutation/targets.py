"""What is mutated, the goal for each module, and the fixed sample CI runs.

The list lives here, not only in ``[tool.mutmut] only_mutate``, because ``_http/_core.py`` counts only its
retry decision: the rest of that module builds requests and errors and is not where a retry bug hides.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EQUIVALENT", "SAMPLE", "TARGETS", "Equivalent", "Sample", "Target"]


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

#: Survivors that cannot be killed, with the reason; reported apart and left out of the scores.
_SAME_OPERAND = (
    "the shortcut only skips Money._same for a Money of the same currency, and _same returns that same "
    "operand: the slow path gives the identical result (the shortcut is speed, not behaviour)"
)
_INT_FACTOR = (
    "an int factor taken through to_decimal becomes Decimal(int), and the exact context multiplies it to the "
    "same result (a bool is not type int, so it is refused either way): the shortcut is speed only"
)
_UPPER_F = (
    "format 'F' differs from 'f' only in writing NaN and Infinity in capitals, and neither reaches here: Money "
    "amounts and compared numbers are finite by construction (to_decimal refuses the rest)"
)
_FULL_COMPARE = (
    "_plainly_equal's False means 'compare in full', never 'different' (its docstring): this mutant only "
    "answers False more often, so compare finds the same differences, more slowly"
)
_SIGN_DECIDES = (
    "bool(None) is False, so the sign comparison decides for every value, and two equal non-zero numbers "
    "have the same sign: the same answer as the original in every case"
)
_SAME_LENGTH = (
    "source_texts is made from source by _refuse_repeats, one text per milestone, so the two never differ in "
    "length and zip's strict check never fires"
)
_DUPLICATES_CLAIMED = (
    "the actions at that point are the duplicates, each with a listed (keyed) target carrying a sync key; "
    "those targets are skipped by the exact-match index for their key anyway, and duplicates arise only on "
    "platforms that keep keys, never on crm.com, the one whole-set target: claiming them or not changes no plan"
)
_NOT_REMEMBERED = (
    "the spelling is then not remembered (or remembered as None, which reads as not remembered), so the next "
    "check strips, upper-cases and looks it up again, to the same code: slower only; a str subclass "
    "remembered instead hashes and compares as its str, naming the same code"
)
_EXACT_TYPE_SHORTCUT = (
    "it skips a shortcut for the exact type only; the isinstance branches below take the same value to the "
    "same result or the same refusal"
)
_ROUNDING_IN_FALLBACK = (
    "with a rounding, the fallback runs only when the quantized amount needs more than 60 digits; an amount "
    "with a fraction of a minor unit is then longer still, and to_minor refuses it as too long whatever the "
    "rounding, while one without a fraction rounds to itself"
)
_UNTRANSLATABLE_CLAIM = (
    "an untranslatable milestone's target was found by its link (so it is among the linked targets, which "
    "the exact-match index and the whole-set check leave out anyway) or by our sync key (which keeps it out "
    "of the index; crm.com, the one whole-set target, keeps no key): claiming it again changes no plan"
)
EQUIVALENT: tuple[Equivalent, ...] = (
    *(
        Equivalent(
            f"{_PKG}/money.py",
            f"Money.{method}",
            f'o = other if {condition} else self._same(other, "{verb}")',
            _SAME_OPERAND,
        )
        for method, verb in (("__add__", "add"), ("__sub__", "subtract"))
        for condition in (
            "(type(other) is Money and other._currency == self._currency) and False",
            "type(None) is Money and other._currency == self._currency",
        )
    ),
    *(
        Equivalent(
            f"{_PKG}/money.py",
            "Money.__mul__",
            f'by = factor if {c} else to_decimal(factor, field="factor")',
            _INT_FACTOR,
        )
        for c in ("(type(factor) is int) and False", "type(None) is int")
    ),
    *(
        Equivalent(f"{_PKG}/_currency.py", "check_currency", line, _NOT_REMEMBERED)
        for line in (
            "if type(None) is str and len(CHECKED) < 1024:",
            "if type(currency) is not str and len(CHECKED) < 1024:",
            "CHECKED[currency] = None",
        )
    ),
    *(
        Equivalent(f"{_PKG}/money.py", function, line, _EXACT_TYPE_SHORTCUT)
        for function, line in (
            ("to_decimal", "if type(None) is Decimal and value.is_finite():"),
            ("to_decimal", "if type(None) is str:"),
            (
                "Money.from_minor",
                "if type(None) is not int and (isinstance(minor, bool) or not isinstance(minor, int)):",
            ),
        )
    ),
    Equivalent(
        f"{_PKG}/money.py",
        "Money.quantize",
        "context = _EXACT if (rounding is None) or True else _CONTEXT",
        "with a rounding given, the exact context traps the inexact quantize and the fallback, "
        "to_minor(rounding=...) then from minor units, rounds the same way to the same amount: the long way",
    ),
    *(
        Equivalent(f"{_PKG}/money.py", "Money.quantize", line, _ROUNDING_IN_FALLBACK)
        for line in ("minor = self.to_minor(exponent=exp, rounding=None)", "minor = self.to_minor(exponent=exp, )")
    ),
    Equivalent(
        f"{_PKG}/sync/translate.py",
        "_shown",
        'return {"amount": format(value.amount.normalize(), "F"), "currency": value.currency}',
        _UPPER_F,
    ),
    Equivalent(f"{_PKG}/sync/translate.py", "_shown", 'return format(value.normalize(), "F")', _UPPER_F),
    # compare's shortcut: True only where the full comparison finds the values equal, False "compare in full".
    *(
        Equivalent(f"{_PKG}/sync/translate.py", "_plainly_equal", line, _FULL_COMPARE)
        for line in (
            "return False",
            "kind = None",
            "kind = type(None)",
            "if kind is not type(None) or a != b:",
            "return bool(a.amount) and a.amount.is_signed() == b.amount.is_signed()",
            "return bool(a) and a.is_signed() == b.is_signed()",
        )
    ),
    *(
        Equivalent(f"{_PKG}/sync/translate.py", "_plainly_equal", line, _SIGN_DECIDES)
        for line in (
            "return bool(None) or a.amount.is_signed() == b.amount.is_signed()",
            "return bool(None) or a.is_signed() == b.is_signed()",
        )
    ),
    Equivalent(
        f"{_PKG}/sync/translate.py",
        "_plainly_equal",
        "if kind is type(b) or a != b:",
        _FULL_COMPARE + "; across two types it could answer True only for values of different types that "
        "compare equal, and a Milestone's compared fields hold one type on both sides (Money, Decimal, str, "
        "date, Trigger, bool) or None, which the identity check or a != b decides",
    ),
    Equivalent(
        f"{_PKG}/sync/translate.py",
        "_plainly_equal",
        "if kind is not Decimal:",
        "a Decimal now takes the last line (not a text/date/flag/trigger type: False, a full comparison); the "
        "others take the zero-sign line, where bool(a) is true for every equal, distinct pair a compared field "
        "holds: the falsy ones (False, None, the empty text) are single objects in CPython, caught by `a is b`",
    ),
    Equivalent(
        f"{_PKG}/sync/translate.py",
        "_plainly_equal",
        "return kind not in _EQUAL_MEANS_SAME",
        "for text, dates, flags and triggers it answers False (a full comparison, slower, same result); True "
        "only for another type, and a compared field holds none other (Money and Decimal returned above, None "
        "is caught by `a is b`)",
    ),
    *(
        Equivalent(
            f"{_PKG}/sync/plan.py", "_plan", f"for s, text in zip(source, source_texts, {strict}):", _SAME_LENGTH
        )
        for strict in ("strict=None", "", "strict=False")
    ),
    *(
        Equivalent(
            f"{_PKG}/sync/plan.py",
            "_plan",
            f"claimed = {{a.target.key.id for a in actions if {condition}}}",
            _DUPLICATES_CLAIMED,
        )
        for condition in (
            "a.target is not None or a.target.key is not None",
            "a.target is None and a.target.key is not None",
            "a.target is not None and a.target.key is None",
        )
    ),
    *(
        Equivalent(
            f"{_PKG}/sync/actions.py",
            "SyncPlan.table",
            f'table = Table(title=f"Sync plan {{self.pair.id}}", {arg})',
            "rich's Table takes show_lines=False by default and reads it only for its truth: None or the default "
            "draws the same table",
        )
        for arg in ("show_lines=None", "")
    ),
    Equivalent(
        f"{_PKG}/sync/plan.py",
        "_plan",
        "if s.id is None and s.platform is None:",
        "a planner row takes its id and platform from one milestone key (row_of): both are set or neither is, so "
        "either test refuses the same rows",
    ),
    *(
        Equivalent(f"{_PKG}/sync/plan.py", "_plan", line, _UNTRANSLATABLE_CLAIM, near='f"cannot translate: {exc}"')
        for line in ("if t is not None and t.key is None:", "claimed.add(None)", "matches.take(None)")
    ),
    Equivalent(
        f"{_PKG}/sync/plan.py",
        "_ExactMatches._index",
        'return comparable(m, None, ("trigger",))',
        "comparable reads the platform only to choose the fields when none are given; with ('trigger',) it is "
        "never read",
    ),
    Equivalent(
        f"{_PKG}/kantata/_read.py",
        "milestone_reader",
        "if amount_of is None or (today is None and type(today) is not _DATE):",
        "with no today every milestone then goes through to_milestone, which reads it the same (the one-step "
        "build is speed only); with a date subclass or a datetime the one-step build compares due <= today as "
        "to_milestone does, to the same status or the same TypeError",
    ),
    Equivalent(
        f"{_PKG}/kantata/_read.py",
        "milestone_reader",
        "or (due is None and type(due) is not _DATE)",
        "the wire model validates date_to_invoice to a date or None, never another type: the mutant only sends "
        "milestones without a due date through to_milestone, which reads them the same (speed only)",
    ),
    Equivalent(
        f"{_PKG}/sync/_fingerprint.py",
        "fingerprint",
        "names = fields if (isinstance(fields, tuple)) and False else tuple(fields)",
        "tuple() of a tuple is an equal tuple (the same one for an exact tuple): both branches give the same "
        "names in the same order",
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
