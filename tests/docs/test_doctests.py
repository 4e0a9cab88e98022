"""The ``>>>`` examples in the package's docstrings run, and the reference shows them as code.

Every module of ``billing_milestones`` is searched (as ``pytest --doctest-modules`` would); each docstring
with examples is one test. In the docstrings, examples sit in a fenced ``pycon`` block (closed after a blank
line, which ends the last example's expected output), so the site renders them as code, not as quotes.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

import billing_milestones

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def module_names() -> list[str]:
    return sorted(
        m.name
        for m in pkgutil.walk_packages(billing_milestones.__path__, "billing_milestones.")
        if m.name.split(".")[-1] != "__main__"
    )


def examples() -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder(exclude_empty=True)
    found: dict[str, doctest.DocTest] = {}
    for name in ["billing_milestones", *module_names()]:
        for test in finder.find(importlib.import_module(name)):
            if test.examples and test.name not in found:  # a re-exported object is found once
                found[test.name] = test
    return [found[name] for name in sorted(found)]


EXAMPLES = examples()


def test_the_examples_are_found() -> None:
    names = {t.name.rsplit(".", 1)[-1] for t in EXAMPLES}
    assert {"KantataSandbox", "FaultPlan"} <= names


@pytest.mark.parametrize("test", EXAMPLES, ids=[t.name for t in EXAMPLES])
def test_docstring_examples_run(test: doctest.DocTest) -> None:
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    output: list[str] = []
    runner.run(test, out=output.append)
    assert runner.failures == 0, "".join(output)


def test_examples_are_fenced_so_they_render_as_code() -> None:
    """A bare ``>>>`` line in a docstring is a triple blockquote in Markdown."""
    for test in EXAMPLES:
        doc = test.docstring or ""
        assert re.search(r"^\s*```pycon\s*$", doc, re.MULTILINE), f"{test.name}: put the examples in ```pycon"


def test_the_reference_shows_examples_as_code_not_quotes(site: Path) -> None:
    for page in sorted((site / "reference").rglob("index.html")):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        quoted = [q.get_text()[:60] for q in soup.find_all("blockquote") if "&gt;&gt;" in str(q) or ">>" in q.text]
        assert not quoted, f"{page}: {quoted}"
