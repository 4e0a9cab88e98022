"""Survivors that cannot be killed: each mutant that behaves exactly as the code it replaces, and why.

They are reported apart and left out of the scores (see :class:`~mutation.targets.Equivalent`, which matches
an entry by the line a mutant writes). Kept apart from the targets so that either list can grow.
"""

from __future__ import annotations

from .targets import _PKG, Equivalent

__all__ = ["EQUIVALENT"]

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
_MORE_THE_LONG_WAY = (
    "it sends more amounts the long way (every rounded one, or those of exactly 60 digits too), which gives "
    "what the one quantize gives, as the property test of the two checks: the test is speed, not behaviour"
)
_UNTRANSLATABLE_CLAIM = (
    "an untranslatable milestone's target was found by its link (so it is among the linked targets, which "
    "the exact-match index and the whole-set check leave out anyway) or by our sync key (which keeps it out "
    "of the index; crm.com, the one whole-set target, keeps no key): claiming it again changes no plan"
)
_DUE = "date_to_invoice.isoformat() if date_to_invoice"

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
    *(
        Equivalent(f"{_PKG}/money.py", "Money.quantize", line, _MORE_THE_LONG_WAY)
        for line in (
            "if rounding is not None or len(self._amount.as_tuple().digits) > _CONTEXT.prec:",
            "if rounding is not None and len(self._amount.as_tuple().digits) >= _CONTEXT.prec:",
        )
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
    Equivalent(
        f"{_PKG}/sync/plan.py",
        "_plan",
        "claimed = {t.id for a in actions if (t := target_row(a)) is not None and t.id is None}",
        "the sync-key carriers' targets carry our sync key, which keeps a target out of the exact-match index "
        "anyway (_ExactMatches skips every target with a sync key): claiming them there too changes no plan",
    ),
    Equivalent(
        f"{_PKG}/sync/plan.py",
        "_plan",
        "claimed = {t.id for a in actions if (t := target_row(a)) is None and t.id is not None}",
        "every sync-key carrier's action has its target row (a None would raise on t.id, which no plan does), so "
        "the mutant claims none of them; their sync key keeps them out of the exact-match index anyway "
        "(_ExactMatches skips every target with a sync key): the same plan, as the entry above",
    ),
    Equivalent(
        f"{_PKG}/sync/plan.py",
        "_plan",
        "if link.planned if (type(link) is Linked) and False else link.source_key not in by_source:  "
        "# its source was listed",
        "a compact Linked is planned exactly when its source was listed, and a listed source's key is popped "
        "from by_source at that moment: the flag is a quicker read of the same fact",
    ),
    Equivalent(
        f"{_PKG}/sync/plan.py",
        "_plan",
        "claim = claimed.add if (whole_set) or True else _no_claim",
        "claimed is read after the loop only when the target is a whole set (the exact-match index was given "
        "its own copy, claimed | linked_targets, before the loop): claiming for other targets fills a set "
        "nothing reads, the same plan",
    ),
    # The Autotask one-step reader.
    *(
        Equivalent(
            f"{_PKG}/autotask/_read.py",
            "milestone_reader",
            mutated,
            "under _EXACT (Inexact trapped) a quantize is exact or raises, so no rounding mode is ever applied",
        )
        for mutated in (
            "exact = amount.quantize(quantum, rounding=None, context=_EXACT)",
            "exact = amount.quantize(quantum, context=_EXACT)",
        )
    ),
    *(
        Equivalent(
            f"{_PKG}/autotask/_read.py",
            "_readers",
            mutated,
            "the contract ids' texts are a cache: a miss writes str(container), the same text, every time",
        )
        for mutated in ("container_text = None", "container_text = containers.get(None)")
    ),
    *(
        Equivalent(
            f"{_PKG}/autotask/_read.py",
            "_wire_of",
            mutated,
            "_wire_of is given only records _page.contract_records vouched for, which _page._record always reads "
            "(the same checks): the model's own reading is a fallback never reached",
        )
        for mutated in (
            "return ContractMilestone.model_validate(data) if (record is None) and False else record",
            "return ContractMilestone.model_validate(None) if record is None else record",
        )
    ),
    Equivalent(
        f"{_PKG}/autotask/_read.py",
        "milestone_reader",
        "return _readers(picklist, currency, labels)[1]",
        "the view items' reader hands every wire record (what milestone_reader takes) to the wire reader itself, "
        "with no contract check given: the same milestone or error",
    ),
    # The bulk create's tie-back (_DUE: the start of _detail's line).
    *(
        Equivalent(
            f"{_PKG}/kantata/_tie.py",
            "_detail",
            mutated,
            "applied alike to the input and the reply, and only compared between them: any one text for a missing "
            "date or story (an input's None, a reply's None; a story id is never 0 or empty) compares the same",
        )
        for mutated in (
            f'return ({_DUE} else "XXXX", str(story_id) if story_id else "")',
            f'return ({_DUE} else "", str(story_id) if (story_id) or True else "")',
            f'return ({_DUE} else "", str(story_id) if story_id else "XXXX")',
        )
    ),
    Equivalent(
        f"{_PKG}/kantata/_tie.py",
        "_in_place",
        "if (due is None) and False",
        "with no date sent, the date branch asks type(None) is type(made's) and None == made's: True exactly "
        "when the reply's date is None too, as 'made.date_to_invoice is None' does",
    ),
    Equivalent(
        f"{_PKG}/kantata/_tie.py",
        "_in_place",
        "and (made.story_id is None if (story is None) and False else made.story_id == story)",
        "with no story sent, made.story_id == None is True exactly when it is None (a wire id is text or None)",
    ),
    *(
        Equivalent(
            f"{_PKG}/kantata/_tie.py",
            "tie_back",
            f"for position, (fp, pick) in enumerate(zip(wanted, chosen{tail})):",
            "wanted and chosen are both built with one item per input, so zip's strict check can never fire",
        )
        for tail in (", strict=None", ", ", ", strict=False")
    ),
    *(
        Equivalent(
            f"{_PKG}/sync/apply.py",
            "_Applier._create_batch",
            f"begun = list(zip(actions, check.intents{tail}))",
            "_begin_many gives one intent id per write it is given (one per action), so zip's strict check can "
            "never fire",
        )
        for tail in (", strict=None", ", ", ", strict=False")
    ),
    *(
        Equivalent(
            f"{_PKG}/sync/apply.py",
            "_Applier.replace_set",
            f"intents = dict(zip((a.sync_key for a in writing), check.intents{tail}))",
            "_begin_many gives one intent id per write it is given (one per writing action), so zip's strict "
            "check can never fire",
        )
        for tail in (", strict=None", ", ", ", strict=False")
    ),
)
