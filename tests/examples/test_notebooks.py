"""The example notebooks execute cleanly against the sandbox, show what they promise, and are stored without
outputs exactly as their generator writes them."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "examples" / "notebooks"
CELL_TIMEOUT = 120


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The ``python3`` kernel of this interpreter's environment, with a non-interactive matplotlib backend.

    ipykernel in this environment normally provides ``python3`` (jupyter_client runs it with sys.executable).
    Where no such spec resolves, one is installed into a temporary prefix and put on JUPYTER_PATH.
    """
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MPLBACKEND", "Agg")
        try:
            KernelSpecManager().get_kernel_spec("python3")
        except NoSuchKernel:
            from ipykernel.kernelspec import install

            prefix = tmp_path_factory.mktemp("kernel")
            install(prefix=str(prefix), kernel_name="python3")
            mp.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
        yield "python3"


def execute(nb: nbformat.NotebookNode, kernel_name: str) -> nbformat.NotebookNode:
    client = NotebookClient(
        nb,
        kernel_name=kernel_name,
        timeout=CELL_TIMEOUT,
        allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()
    return nb


def run_notebook(name: str, kernel_name: str) -> tuple[list[dict[str, Any]], str]:
    """Execute a stored notebook; its outputs, and all their text joined (stdout and text/plain results)."""
    nb = execute(nbformat.read(NOTEBOOKS / name, as_version=4), kernel_name)
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    errors = [o for o in outputs if o.output_type == "error" or (o.output_type == "stream" and o.name == "stderr")]
    assert not errors, f"{name}: {errors}"
    text = []
    for o in outputs:
        if o.output_type == "stream":
            text.append(o.text)
        elif o.output_type in ("execute_result", "display_data"):
            text.append(o.data.get("text/plain", ""))
    return outputs, "\n".join(text)


def test_kernel_is_this_interpreter(kernel: str) -> None:
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("import os, sys\nprint(sys.prefix)\nprint(os.environ['MPLBACKEND'])")]
    )
    execute(nb, kernel)
    assert nb.cells[0].outputs[0].text.split() == [sys.prefix, "Agg"]


def test_quickstart(kernel: str) -> None:
    outputs, text = run_notebook("01_quickstart.ipynb", kernel)
    assert "1500000 JPY  exponent 0  minor units 1500000" in text
    assert "19.99 USD  exponent 2  minor units 1999" in text
    assert "12.345 KWD  exponent 3  minor units 12345" in text
    assert "refused: amount: float 0.1 refused" in text
    assert "not exact: amount: 12.3456 KWD has a fraction of a minor unit" in text
    assert "rounded on request: 12346" in text
    assert "milestones per platform: {'autotask': 3, 'crmcom': 3, 'kantata': 4}" in text
    assert "locked (billed or invoiced): ['autotask:Deposit', 'kantata:Deposit']" in text
    assert "kantata  70002 'Design approved'      1250050 cents  upon_completion" in text
    assert "crm.com order total: 59.97 USD" in text
    assert any("text/html" in o.get("data", {}) for o in outputs)  # the common-model DataFrame


def test_plan_a_sync(kernel: str) -> None:
    outputs, text = run_notebook("02_plan_a_sync.ipynb", kernel)
    assert "plan: 4 create" in text
    assert "total to bill: 28750.50 USD" in text
    assert "descriptions dropped: 2" in text
    assert "applied: 4 writes, ok=True" in text
    assert "second plan: 4 unchanged" in text
    plots = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(plots) == 1 and "2 Axes" in plots[0]["data"]["text/plain"]
    # both schedules add up to the same total after the sync
    assert "autotask    28750.50" in text and "kantata     28750.50" in text  # Decimal sums, not float


def test_reconcile(kernel: str) -> None:
    _, text = run_notebook("03_reconcile.ipynb", kernel)
    assert "synced: 4 writes, ok=True" in text
    assert "plan: 2 update, 2 unchanged" in text
    assert "in step: ['Go-live', 'Kick-off']" in text
    assert (
        "mismatched fields: [('Change request 7', '-'), ('Data migration', 'due'), ('User training', 'amount')]" in text
    )
    assert "status counts: {'extra-on-target': 1, 'mismatch': 2}" in text
    assert "3400.00 USD" in text and "3250.00 USD" in text


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOKS / "_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_notebooks_are_stored_without_outputs_and_match_their_generator() -> None:
    build = _generator()
    stored = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert stored == sorted(build.NOTEBOOKS), "every notebook comes from _build.py"
    for name, cells in build.NOTEBOOKS.items():
        on_disk = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
        code = [c for c in on_disk["cells"] if c["cell_type"] == "code"]
        assert code, name
        assert all(c["execution_count"] is None and c["outputs"] == [] for c in code), f"{name} has outputs"
        assert on_disk["metadata"]["kernelspec"]["name"] == "python3"
        expected = json.loads(nbformat.writes(build.build(name, cells)))
        assert on_disk == expected, f"{name} differs from _build.py: run `python examples/notebooks/_build.py`"


def test_no_notebook_blocks_on_show() -> None:
    for path in NOTEBOOKS.glob("*.ipynb"):
        assert "plt.show(" not in path.read_text(encoding="utf-8"), path.name
