"""No Python file of the project over 450 lines (the project's standard: small modules with one job).

``tests/test_package_template.py`` looks at the client packages' layout only, so the planner's modules once
grew past the bound unseen; this covers every Python file the repository ships or runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 450


@pytest.mark.parametrize("folder", ["src", "tests", "benchmarks", "mutation", "chaos", "examples"])
def test_no_python_file_is_over_450_lines(folder: str) -> None:
    files = sorted((ROOT / folder).rglob("*.py"))
    if folder == "src":
        assert files, "the package's sources are where they should be"
    long = {str(f.relative_to(ROOT)): n for f in files if (n := len(f.read_text().splitlines())) > LIMIT}
    assert long == {}
