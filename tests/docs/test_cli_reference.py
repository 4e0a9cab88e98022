"""The CLI reference is generated from the Typer app when the site is built (docs/_ext/cli_pages.py): one
page per command, so a command added, removed or changed is reflected without anyone editing a page."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Annotated

import typer
from bs4 import BeautifulSoup

from billing_milestones.cli import app

ROOT = Path(__file__).resolve().parents[2]


def hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cli_pages", ROOT / "docs" / "_ext" / "cli_pages.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_command_has_a_page_with_its_usage_and_options(site: Path) -> None:
    found = hook().commands(app)
    assert {" ".join(path) for path, _ in found} >= {"list", "plan", "sync", "reconcile", "demo", "sandbox serve"}
    index = (site / "cli" / "index.html").read_text(encoding="utf-8")
    for path, command in found:
        slug = "-".join(path)
        page = BeautifulSoup((site / "cli" / slug / "index.html").read_text(encoding="utf-8"), "html.parser")
        text = " ".join(page.get_text(" ").split())
        assert f"milestones {' '.join(path)} [OPTIONS]" in text, slug
        for param in command.params:
            for opt in param.opts if param.param_type_name == "option" else []:
                assert opt in text, f"{slug}: {opt}"
        assert f'href="{slug}/"' in index, slug


def test_a_new_command_gets_a_page_without_editing_the_docs() -> None:
    toy = typer.Typer()

    @toy.command("frobnicate")
    def frobnicate(
        pair: Annotated[str, typer.Argument(help="The pair")],
        loud: Annotated[bool, typer.Option("--loud", help="Shout about it.")] = False,
    ) -> None:
        """Frobnicate a pair."""

    @toy.command("other")
    def other() -> None:
        """Another one."""

    pages = hook().pages(toy)
    assert set(pages) == {"cli/index.md", "cli/frobnicate.md", "cli/other.md"}
    assert "| <code>--loud</code> | option | Shout about it. |" in pages["cli/frobnicate.md"]
    assert "[`milestones frobnicate`](frobnicate.md) | Frobnicate a pair." in pages["cli/index.md"]


def test_no_cli_page_is_written_by_hand() -> None:
    assert not (ROOT / "docs" / "cli").exists(), "docs/cli/ is generated at build time; do not commit pages"
