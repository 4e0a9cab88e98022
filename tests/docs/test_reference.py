"""The API reference documents every public name under the path a reader imports it from.

Public names are the ``__all__`` of ``billing_milestones`` and of its public subpackages (and of the
``errors`` module it exports). Each must be the target of a ``::: path`` directive in docs/reference/,
written with a public path (no ``_private`` segment), or be a member of a module documented whole.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "reference"
PUBLIC_MODULES = [
    "billing_milestones",
    "billing_milestones.errors",
    "billing_milestones.autotask",
    "billing_milestones.crmcom",
    "billing_milestones.kantata",
    "billing_milestones.sync",
    "billing_milestones.sandbox",
]
DIRECTIVE = re.compile(r"^::: ([\w.]+)\s*$", re.MULTILINE)


def directives() -> list[str]:
    return [m.group(1) for page in sorted(REFERENCE.glob("*.md")) for m in DIRECTIVE.finditer(page.read_text())]


def resolve(path: str) -> Any:
    """The object a dotted path names as griffe reads it: the longest importable module, then attributes.
    (So ``billing_milestones.sync.reconcile`` is the module; its function is ``...reconcile.reconcile``.)"""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise LookupError(path)


def public_names() -> list[tuple[str, str]]:
    names = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        names += [(module_name, name) for name in module.__all__ if not name.startswith("__")]
    return names


def documented() -> tuple[list[int], set[str]]:
    """Ids of every documented object, and the modules documented whole."""
    ids, modules = [], set()
    for path in directives():
        obj = resolve(path)
        ids.append(id(obj))
        if isinstance(obj, ModuleType):
            modules.add(obj.__name__)
    return ids, modules


def test_every_directive_uses_a_public_path_and_resolves() -> None:
    paths = directives()
    assert len(paths) > 100
    assert not [p for p in paths if re.search(r"\._", p)], "a reference path names a private module"
    for path in paths:
        resolve(path)  # raises on a name that moved or was removed


@pytest.mark.parametrize(("module", "name"), public_names())
def test_public_name_is_in_the_reference(module: str, name: str) -> None:
    ids, whole = documented()
    obj = getattr(importlib.import_module(module), name)
    if isinstance(obj, ModuleType):
        assert obj.__name__ in whole, f"{module}.{name}: document the module with '::: {obj.__name__}'"
        return
    assert id(obj) in ids or module in whole, f"{module}.{name} is missing from docs/reference/*.md"


def test_a_missing_name_is_caught() -> None:
    """The check itself can fail: an object no directive names is not counted as documented."""
    ids, _ = documented()
    assert id(object()) not in ids and id(resolve("billing_milestones.Milestone")) in ids


def text_of(page: Path) -> str:
    article = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").select_one("article")
    assert article is not None, page
    return re.sub(r"\s+", " ", article.get_text(" "))


def test_rendered_reference_shows_fields_members_and_typed_signatures(site: Path) -> None:
    model = text_of(site / "reference" / "model" / "index.html")
    for field in ("title", "description", "amount", "percentage", "due", "trigger", "status", "locked"):
        assert f"{field} pydantic-field" in model, field
    kantata = text_of(site / "reference" / "kantata" / "index.html")
    assert "KantataClient ( token : str | SecretStr" in kantata  # the constructor, typed
    assert "billing_milestones : BillingMilestones" in kantata  # the resources ...
    assert "list_pages" in kantata or "list (" in kantata  # ... and their methods
    autotask = text_of(site / "reference" / "autotask" / "index.html")
    assert "contract_milestones : ContractMilestones" in autotask and "milestones : AutotaskMilestones" in autotask
    crmcom = text_of(site / "reference" / "crmcom" / "index.html")
    assert "estimates : Estimates" in crmcom and "milestones : CrmComMilestones" in crmcom
    views = text_of(site / "reference" / "views" / "index.html")
    assert "billing_milestones.RetryPolicy" in views


def test_private_validators_are_not_listed(site: Path) -> None:
    model = text_of(site / "reference" / "model" / "index.html")
    assert "Validators:" not in model and "_exact_percentage" not in model


def test_no_private_path_is_shown(site: Path) -> None:
    for page in sorted((site / "reference").rglob("index.html")):
        shown = re.findall(r"billing_milestones(?:\.\w+)*\._\w+", text_of(page))
        assert not shown, f"{page}: {sorted(set(shown))}"


GUIDES = [
    "quickstart",
    "sync",
    "field-mapping",
    "retries-and-errors",
    "sandbox",
    "reconcile",
    "platforms/kantata",
    "platforms/autotask",
    "platforms/crmcom",
]


@pytest.mark.parametrize("guide", GUIDES)
def test_guides_link_into_the_reference(site: Path, guide: str) -> None:
    article = BeautifulSoup((site / guide / "index.html").read_text(encoding="utf-8"), "html.parser").article
    assert article is not None
    links = [a["href"] for a in article.find_all("a", href=True) if "reference/" in str(a["href"])]
    assert links, f"{guide}: no link into the API reference"
