"""Review 4: no source module over 450 lines (the project's standard).

``tests/test_package_template.py`` checks the client packages and ``_http`` only, so the planner's modules
grew past the bound unseen: ``sync/_rows.py`` (465 lines after 3dd19b5) and ``sync/plan.py`` (452 after
0e842a2/2d19c15).
"""

from __future__ import annotations

from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "billing_milestones"


def test_no_source_module_is_over_450_lines() -> None:
    long = {str(f.relative_to(SRC)): n for f in SRC.rglob("*.py") if (n := len(f.read_text().splitlines())) > 450}
    assert long == {}
