"""An mkdocs hook: the site's changelog page is the repository's CHANGELOG.md, read at build time (one
file to edit), with its links into docs/ made relative to the page."""

from __future__ import annotations

from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

CHANGELOG = Path(__file__).resolve().parents[2] / "CHANGELOG.md"


def page(text: str) -> str:
    """CHANGELOG.md as docs/changelog.md sees it: ``](docs/x.md)`` becomes ``](x.md)``."""
    return text.replace("](docs/", "](")


def on_files(files: Files, config: MkDocsConfig) -> Files:
    files.append(File.generated(config, "changelog.md", content=page(CHANGELOG.read_text(encoding="utf-8"))))
    return files
