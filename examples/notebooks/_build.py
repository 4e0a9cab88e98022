"""Write the example notebooks from their cell sources and execute them (``python _build.py`` after editing).

The notebooks are stored executed, with their outputs and small PNG images, so a reader on a code host
sees the results without running anything. The cells live as plain Python in ``_nb01.py`` .. ``_nb03.py``,
so review and diffs stay readable and the cell ids stable. The test suite (tests/examples) checks that
every stored notebook is what :func:`build` makes, outputs aside, and executes each to check its results.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

import nbformat as _nbformat
from nbclient import NotebookClient
from nbformat.notebooknode import NotebookNode

#: nbformat has no type annotations: its calls go through an Any-typed name.
nbformat: Any = _nbformat
HERE = Path(__file__).resolve().parent

Cell = tuple[str, str]  # ("md" | "code", source)

#: The largest image a stored notebook may hold: small enough for git and a code host's viewer.
MAX_IMAGE_BYTES = 80_000

METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def _cells(module: str) -> list[Cell]:
    """One notebook's cells, from its sibling module (loaded by path: this file is run as a script)."""
    spec = importlib.util.spec_from_file_location(f"notebook_cells_{module}", HERE / f"{module}.py")
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    cells: list[Cell] = loaded.CELLS
    return cells


NOTEBOOKS: dict[str, list[Cell]] = {
    "01_quickstart.ipynb": _cells("_nb01"),
    "02_plan_a_sync.ipynb": _cells("_nb02"),
    "03_reconcile.ipynb": _cells("_nb03"),
}


def build(name: str, cells: list[Cell]) -> NotebookNode:
    """The notebook without outputs, exactly as its cell sources say."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = nbformat.from_dict(METADATA)
    stem = name.split("_", 1)[0]
    for i, (kind, source) in enumerate(cells):
        cell = nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source)
        cell.id = f"nb{stem}-{i:02d}"  # stable ids: regenerating changes nothing unless the source did
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def execute(nb: NotebookNode, *, kernel_name: str = "python3", timeout: int = 120) -> NotebookNode:
    """Run every cell in this folder (the sandbox needs no network); the stored metadata stays as built."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    client = NotebookClient(
        nb,
        kernel_name=kernel_name,
        timeout=timeout,
        allow_errors=False,
        record_timing=False,  # no timestamps: an unchanged notebook rebuilds byte for byte where it can
        resources={"metadata": {"path": str(HERE)}},
    )
    client.execute()
    nb.metadata = nbformat.from_dict(METADATA)  # the kernel's language_info would vary by machine
    return nb


def without_outputs(nb: NotebookNode) -> NotebookNode:
    """A copy with every code cell's outputs and execution count cleared: what :func:`build` produces."""
    copy = nbformat.from_dict(nbformat.reads(nbformat.writes(nb), as_version=4))
    for cell in copy.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return copy


def main() -> int:
    for name, cells in NOTEBOOKS.items():
        nb = execute(build(name, cells))
        nbformat.write(nb, HERE / name)
        print(f"wrote {HERE / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
