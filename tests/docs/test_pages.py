"""Pages that fit: code blocks within 88 columns, nested lists that nest, a home page that says it all in
one screen, field tables that keep identifiers whole."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
WIDTH = 88  # what fits a code block on the site at 1280 pixels with the navigation shown
FENCE = re.compile(r"^( *)(```+|~~~+)")


def pages() -> list[Path]:
    return [*sorted(DOCS.rglob("*.md")), ROOT / "README.md"]


def code_blocks(text: str) -> list[tuple[int, str, list[str]]]:
    """(first line number, language, lines) of every fenced block, fences excluded."""
    blocks: list[tuple[int, str, list[str]]] = []
    current: list[str] = []
    lang, start, fence = "", 0, ""
    for n, line in enumerate(text.split("\n"), 1):
        m = FENCE.match(line)
        if m and not fence:
            fence, lang, start, current = m.group(2), line.strip()[len(m.group(2)) :].strip(), n + 1, []
        elif m and line.strip().startswith(fence) and line.strip() == fence:
            blocks.append((start, lang, current))
            fence = ""
        elif fence:
            current.append(line)
    return blocks


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_code_blocks_fit(page: Path) -> None:
    wide = [
        f"{page.name}:{start + i}: {len(line)} columns"
        for start, _, lines in code_blocks(page.read_text(encoding="utf-8"))
        for i, line in enumerate(lines)
        if len(line) > WIDTH
    ]
    assert not wide, "\n".join(wide)


def test_the_width_check_sees_code_blocks() -> None:
    blocks = code_blocks("text\n```python\nx = 1\n" + "y" * 90 + "\n```\nafter\n")
    assert blocks == [(3, "python", ["x = 1", "y" * 90])]


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_python_blocks_compile(page: Path) -> None:
    for start, lang, lines in code_blocks(page.read_text(encoding="utf-8")):
        if lang in ("python", "py"):
            source = "\n".join(line[len(lines[0]) - len(lines[0].lstrip()) :] for line in lines)
            compile(source, f"{page.name}:{start}", "exec")


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_nested_lists_are_indented_four_spaces(page: Path) -> None:
    """Python-Markdown nests a list only at four spaces; at two or three it is flattened into its parent."""
    text = page.read_text(encoding="utf-8")
    shallow = re.findall(r"^( {1,3})([-*+]|\d+\.) ", "\n".join(_outside_code(text)), re.MULTILINE)
    assert not shallow, f"{page.name}: {len(shallow)} list items indented 1-3 spaces"


def _outside_code(text: str) -> list[str]:
    out, fence = [], False
    for line in text.split("\n"):
        if FENCE.match(line):
            fence = not fence
        elif not fence:
            out.append(line)
    return out


def test_nested_lists_render_nested(site: Path) -> None:
    for page, first in (("platforms/autotask", "Errors are classified"), ("platforms/crmcom", "Both given")):
        soup = BeautifulSoup((site / page / "index.html").read_text(encoding="utf-8"), "html.parser")
        parents = [li.get_text(" ", strip=True) for li in soup.select("article li") if li.find(["ul", "ol"])]
        assert any(p.startswith(first) for p in parents), page


def home_blocks() -> list[tuple[int, str, list[str]]]:
    return code_blocks((DOCS / "index.md").read_text(encoding="utf-8"))


def test_home_page_says_what_it_is_how_to_install_and_shows_a_short_example() -> None:
    text = (DOCS / "index.md").read_text(encoding="utf-8")
    intro = text.split("```", 1)[0]
    assert all(name in intro for name in ("crm.com", "Autotask PSA", "Kantata OX"))
    assert len(intro.split()) < 80  # a paragraph, not an essay, before the install line
    blocks = home_blocks()
    assert blocks[0][1:] == ("bash", ['pip install "billing-milestones[cli]"'])
    python = [lines for _, lang, lines in blocks if lang == "python"]
    assert len(python) == 1 and len([line for line in python[0] if line.strip()]) <= 10
    assert text.index("```python") < 1200  # install and example on the first screen


def test_home_page_example_runs_and_prints_what_the_page_shows() -> None:
    python = next(lines for _, lang, lines in home_blocks() if lang == "python")
    shown = next(lines for _, lang, lines in home_blocks() if lang == "text")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile("\n".join(python), "docs/index.md", "exec"), {"__name__": "__home__"})
    assert out.getvalue().splitlines() == shown


def test_field_mapping_tables_are_narrow_and_identifiers_do_not_break(site: Path) -> None:
    soup = BeautifulSoup((site / "field-mapping" / "index.html").read_text(encoding="utf-8"), "html.parser")
    tables = soup.select("article table")
    assert len(tables) >= 10 and all(len(t.select("thead th")) == 2 for t in tables)
    css = (DOCS / "stylesheets" / "extra.css").read_text(encoding="utf-8")
    assert "word-break: keep-all" in css and "white-space: nowrap" in css
    assert 'href="../stylesheets/extra.css"' in str(soup)
