"""The sync engine knows no platform: it reads specs and view Protocols only (docs/architecture.md)."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from billing_milestones import Money, Platform, _platforms
from billing_milestones._platforms import spec_for
from billing_milestones.sync import SyncPair, translate

SYNC = Path(__file__).resolve().parents[2] / "src" / "billing_milestones" / "sync"
PLATFORM_PACKAGES = {"kantata", "autotask", "crmcom"}


@pytest.mark.parametrize("module", sorted(SYNC.glob("*.py")), ids=lambda p: p.name)
def test_no_sync_module_imports_a_platform_package_or_names_a_platform(module: Path) -> None:
    tree = ast.parse(module.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            parts = (node.module or "").split(".")
            assert not PLATFORM_PACKAGES & set(parts), f"{module.name} imports {node.module}"
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Platform":
            pytest.fail(f"{module.name}:{node.lineno} names Platform.{node.attr}")


def test_the_planner_follows_the_spec_not_the_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    """Change a platform's spec and translation follows: the limits live in the spec alone."""
    from billing_milestones import Milestone

    pair = SyncPair(Platform.KANTATA, "1", Platform.AUTOTASK, "2", truncate=True)
    source = Milestone(title="A" * 40, amount=Money("1.00", "USD"), due="2027-01-01")
    assert translate(source, pair).title == "A" * 40  # fits Autotask's 50
    shorter = dataclasses.replace(spec_for(Platform.AUTOTASK), text_limits={"title": 10})
    monkeypatch.setitem(_platforms._specs, Platform.AUTOTASK, shorter)
    assert len(translate(source, pair).title) == 10
