"""mutmut's verdicts turned into a score per target, and the report a person reads.

A mutant counts as *detected* when a test failed on it, it ran into the time limit (an infinite loop is
noticed) or it crashed the test process. It counts as *survived* when every test passed, and also when no
test reached it at all ("no tests"): both are rules nobody checks. Mutants mutmut did not run ("not
checked", "skipped") are left out of the score, and so are survivors listed as equivalent
(:data:`mutation.equivalents.EQUIVALENT`): those are reported apart, each with the reason it cannot be killed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .targets import Target

__all__ = ["DETECTED", "UNTESTED", "Score", "parse_results", "render", "score"]

DETECTED = frozenset({"killed", "timeout", "caught by type check", "segfault"})
UNTESTED = frozenset({"not checked", "skipped"})


def parse_results(text: str) -> dict[str, str]:
    """``mutmut results --all=true`` output (``    name: status`` lines) as {mutant name: status}."""
    verdicts: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and "__mutmut_" in name:
            verdicts[name] = status.strip()
    return verdicts


@dataclass(frozen=True)
class Score:
    """One target's result."""

    target: Target
    detected: int
    survivors: tuple[str, ...]
    #: Survivors excused as equivalent: (mutant name, why no test can kill it); not in the score.
    equivalent: tuple[tuple[str, str], ...] = ()

    @property
    def tested(self) -> int:
        return self.detected + len(self.survivors)

    @property
    def percent(self) -> float:
        return 100.0 * self.detected / self.tested if self.tested else 0.0

    @property
    def meets_goal(self) -> bool:
        return self.tested > 0 and self.percent >= self.target.goal


def score(target: Target, verdicts: Mapping[str, str], equivalent: Mapping[str, str] | None = None) -> Score:
    """The target's share of detected mutants among those that ran, and the names of the survivors.

    ``equivalent`` maps surviving mutants shown to be equivalent to the reason; they leave the score.
    """
    excused = equivalent or {}
    mine = {name: status for name, status in verdicts.items() if target.owns(name) and status not in UNTESTED}
    alive = sorted((n for n, s in mine.items() if s not in DETECTED), key=_natural)
    survivors = tuple(n for n in alive if n not in excused)
    kept = tuple((n, excused[n]) for n in alive if n in excused)
    return Score(target, detected=len(mine) - len(alive), survivors=survivors, equivalent=kept)


def _natural(name: str) -> tuple[str, int]:
    prefix, _, number = name.rpartition("__mutmut_")
    return prefix, int(number) if number.isdigit() else -1


def total_percent(scores: Iterable[Score]) -> float:
    """Detected over tested across several targets (each mutant weighs the same)."""
    listed = list(scores)
    tested = sum(s.tested for s in listed)
    return 100.0 * sum(s.detected for s in listed) / tested if tested else 0.0


def render(scores: Iterable[Score], diffs: Mapping[str, str] | None = None) -> str:
    """The score table, then every survivor (with its diff when ``diffs`` has it)."""
    listed = list(scores)
    width = max((len(s.target.label) for s in listed), default=10)
    lines = [f"{'module':<{width}}  detected/tested   score   goal"]
    for s in listed:
        verdict = "ok" if s.meets_goal else "BELOW GOAL"
        counts = f"{s.detected:>8}/{s.tested:<6}"
        lines.append(f"{s.target.label:<{width}}  {counts}  {s.percent:5.1f} %  {s.target.goal:4.0f} %  {verdict}")
    lines.append(f"{'all':<{width}}  {'':>15}  {total_percent(listed):5.1f} %")
    survivors = [name for s in listed for name in s.survivors]
    lines.append("")
    if not survivors:
        lines.append("no surviving mutants")
    else:
        lines.append(f"surviving mutants ({len(survivors)}): '.venv/bin/mutmut show NAME' prints one's diff")
        for name in survivors:
            lines.append(f"  {name}")
            if diffs and name in diffs:
                lines.extend(f"      {row}" for row in diffs[name].splitlines())
    excused = [pair for s in listed for pair in s.equivalent]
    if excused:
        lines.append(f"equivalent mutants ({len(excused)}), not scored (mutation/equivalents.py says why):")
        lines.extend(f"  {name}: {why}" for name, why in excused)
    return "\n".join(lines)
