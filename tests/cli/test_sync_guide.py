"""The sync guide's sandbox snippet (docs/sync.md) runs as written, and again: a second run gives the same output."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "sync.md"


def _sandbox_snippet() -> str:
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.DOTALL)
    (snippet,) = [b for b in blocks if "AutotaskSandbox()" in b]
    return str(snippet)


def _run(snippet: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(snippet, str(GUIDE), "exec"), {"__name__": "__guide__"})
    return out.getvalue()


def test_the_snippet_runs_twice_in_one_folder_with_the_same_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    snippet = _sandbox_snippet()
    first = _run(snippet)
    lines = first.splitlines()
    assert lines[0] == "1 create" and lines[-2:] == ["True 1", "1 unchanged"], first
    assert _run(snippet) == first
