"""Docstrings read well in the reference: Sphinx roles become code spans (docs/_ext/sphinx_roles.py)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

from bs4 import BeautifulSoup

EXTENSION = Path(__file__).resolve().parents[2] / "docs" / "_ext" / "sphinx_roles.py"


def extension() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sphinx_roles", EXTENSION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_roles_become_code_spans() -> None:
    plain = extension().plain_roles
    assert plain("see :class:`Money` and :func:`plan_sync`") == "see `Money` and `plan_sync`"
    assert plain(":meth:`~.client.KantataClient.close` closes") == "`close` closes"
    assert plain("(:py:exc:`billing_milestones.errors.ValidationError`)") == (
        "(`billing_milestones.errors.ValidationError`)"
    )
    assert plain("a `literal` and ``double``") == "a `literal` and ``double``"
    assert plain("the default is undocumented [U].") == "the default is undocumented [\\[U\\]][uncertain-points]."


def test_uncertain_marks_link_to_their_explanation(site: Path) -> None:
    page = (site / "reference" / "kantata" / "index.html").read_text(encoding="utf-8")
    assert 'href="../#uncertain-points">[U]</a>' in page
    overview = BeautifulSoup((site / "reference" / "index.html").read_text(encoding="utf-8"), "html.parser")
    assert overview.find(id="uncertain-points") is not None


def test_no_raw_role_is_shown(site: Path) -> None:
    for page in sorted((site / "reference").rglob("index.html")):
        article = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").article
        assert article is not None
        raw = re.findall(r":(?:class|func|meth|attr|mod|data|exc|obj):", article.get_text(" "))
        assert not raw, f"{page}: {raw[:3]}"


def test_the_extension_is_not_published(site: Path) -> None:
    assert not (site / "_ext").exists()
