"""``python -m mutation [--sample] [--diff] [--check]``: run mutmut over the targets and print the scores.

Every run starts from an empty ``mutants/``: mutmut copies the unmutated files only once, so a kept folder
would test against stale copies of modules edited since. mutmut's own output goes to ``mutants/run.log``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .equivalents import EQUIVALENT
from .results import DETECTED, UNTESTED, parse_results, render, score, total_percent
from .targets import SAMPLE, TARGETS, Equivalent, Target

ROOT = Path(__file__).resolve().parents[1]

#: mutmut's command line, its ``only_mutate`` narrowed to the files of the targets run (the first argument, as
#: JSON): mutmut otherwise mutates every file of ``[tool.mutmut] only_mutate`` whatever mutants are asked for,
#: and every test then runs through the trampolines of modules none of whose mutants runs. Those cost the CI
#: sample most of its time (generating the mutants, the stats run over the tests) and change no verdict: a
#: mutant's tests are those that called its function, and a module that is not mutated behaves as the original.
#:
#: It also skips mutmut's "clean tests" run, which runs every mutant's tests once more on the unmutated code
#: (~70-140 s of the CI sample): every ``run`` here starts from an empty ``mutants/``, so mutmut has just run
#: the same tests, in the same folder, through the same trampolines calling the original functions, to collect
#: its stats, and stops (exit 1) when any of them fails. The forced-fail run, which shows that a failing
#: mutant is seen as failing, is kept.
_LAUNCH = (
    "import json, sys; import mutmut.__main__ as cli; from mutmut.configuration import config; "
    "config().only_mutate = json.loads(sys.argv.pop(1)); runner = cli.get_mutant_runner\n"
    "def fresh_stats_runner(n):\n"
    "    r = runner(n); r.run_clean_tests = lambda tests: 0; return r\n"
    "cli.get_mutant_runner = fresh_stats_runner; cli.cli()"
)


def _mutmut(*args: str, files: Sequence[str], log: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", _LAUNCH, json.dumps(sorted(set(files))), *args]
    if log is None:
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    with log.open("w", encoding="utf-8") as out:
        return subprocess.run(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True, check=False)


def _tail(log: Path, lines: int = 40) -> str:
    """The last lines of mutmut's log, its progress spinner (carriage returns) unfolded."""
    text = log.read_text(encoding="utf-8", errors="replace").replace("\r", "\n")
    return "\n".join([line for line in text.splitlines() if line.strip()][-lines:])


def _say(text: str, *, error: bool = False) -> None:
    stream = sys.stderr if error else sys.stdout
    stream.write(text + "\n")
    stream.flush()


def _equivalent(
    verdicts: dict[str, str], listed: Sequence[Equivalent], files: Sequence[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """The survivors that are listed equivalent mutants ({name: reason}), and the diffs read to tell.

    Only survivors in a function with an entry are shown (``mutmut show`` takes seconds each)."""
    alive = [n for n, s in verdicts.items() if s not in DETECTED and s not in UNTESTED]
    shown = {n: _mutmut("show", n, files=files).stdout for n in alive if any(e.could_be(n) for e in listed)}
    excused = {n: e.reason for n, diff in shown.items() for e in listed if e.matches(n, diff)}
    return excused, shown


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mutation", description=__doc__.splitlines()[0])
    parser.add_argument("--sample", action="store_true", help="only the fixed CI sample; fail below its threshold")
    parser.add_argument("--diff", action="store_true", help="print each survivor's diff")
    parser.add_argument("--check", action="store_true", help="fail when a module is below its goal")
    parser.add_argument("--max-children", type=int, default=2, help="parallel mutant runs (default 2)")
    parser.add_argument(
        "--only", action="append", default=[], metavar="PATH", help="only this target (e.g. sync/plan.py); repeatable"
    )
    args = parser.parse_args(argv)

    targets: tuple[Target, ...] = SAMPLE.targets if args.sample else TARGETS
    if args.only:
        known = {t.label for t in targets}
        unknown = sorted(set(args.only) - known)
        if unknown:
            parser.error(f"--only: not a target: {', '.join(unknown)} (targets: {', '.join(sorted(known))})")
        targets = tuple(t for t in targets if t.label in args.only)
    patterns = (
        [p for t in targets for p in t.patterns(SAMPLE.digits)]
        if args.sample
        else [p for t in targets for p in t.patterns()]
    )
    work = ROOT / "mutants"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    log = work / "run.log"
    what = f"the CI sample (mutant numbers ending in {SAMPLE.digits})" if args.sample else "every mutant"
    _say(f"mutation testing {what} of {len(targets)} modules; mutmut's output: {log.relative_to(ROOT)}")

    started = time.monotonic()
    files = [t.path for t in targets]
    run = _mutmut("run", "--max-children", str(args.max_children), *patterns, files=files, log=log)
    if run.returncode != 0:
        _say(_tail(log), error=True)
        _say(f"mutmut run failed (exit {run.returncode})", error=True)
        return run.returncode or 1
    verdicts = parse_results(_mutmut("results", "--all=true", files=files).stdout)
    equivalent, shown = _equivalent(verdicts, EQUIVALENT, files)
    scores = [score(t, verdicts, equivalent) for t in targets]
    diffs = None
    if args.diff:
        diffs = {
            name: shown.get(name) or _mutmut("show", name, files=files).stdout for s in scores for name in s.survivors
        }
    _say(render(scores, diffs))
    _say(f"\n{sum(s.tested for s in scores)} mutants in {time.monotonic() - started:.0f} s")

    empty = [s.target.label for s in scores if s.tested == 0]
    if empty:
        _say(f"no mutant of {', '.join(empty)} ran: check [tool.mutmut] in pyproject.toml", error=True)
        return 1
    if args.sample and total_percent(scores) < SAMPLE.threshold:
        _say(
            f"the sample's score {total_percent(scores):.1f} % is below {SAMPLE.threshold:.0f} %: "
            "a test that used to catch one of these mutants no longer does",
            error=True,
        )
        return 1
    if args.check and not all(s.meets_goal for s in scores):
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
