"""The example notebooks execute cleanly against the sandbox, show what they promise (plots included, checked
from inside the kernel), and are stored executed: their cells exactly as the generator writes them, their
outputs current and their images small."""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import nbformat as _nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

#: nbformat has no type annotations: its calls go through an Any-typed name.
nbformat: Any = _nbformat
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
    """Run ``nb`` in a kernel reached over Unix sockets: over TCP, jupyter_client picks five free ports and the
    kernel binds them a moment later, when another test's server (PostgreSQL, a sandbox) may have taken one
    ("Address already in use": the kernel died before replying, in a CI run)."""
    with tempfile.TemporaryDirectory(prefix="bmk") as sockets:  # short: a socket path has ~100 bytes
        km = KernelManager(kernel_name=kernel_name, transport="ipc", ip=str(Path(sockets) / "k"))
        client = NotebookClient(
            nb,
            km=km,
            timeout=CELL_TIMEOUT,
            allow_errors=False,
            resources={"metadata": {"path": str(NOTEBOOKS)}},
        )
        client.execute()
    return nb


def texts(cells: list[Any]) -> list[str]:
    """Every output's text (stdout, text/plain, text/html), in order; images aside. A cell's printed text is
    one item however the kernel happened to split it into stream messages."""
    out: list[str] = []
    for cell in cells:
        printed = ""
        for o in cell.get("outputs", []):
            if o["output_type"] == "stream":
                printed += o["text"]
            elif o["output_type"] in ("execute_result", "display_data"):
                out.extend(o["data"].get(kind, "") for kind in ("text/plain", "text/html"))
        if printed:
            out.append(printed)
    return out


def run_notebook(name: str, kernel_name: str, probe: str | None = None) -> tuple[list[dict[str, Any]], str, str]:
    """Execute a stored notebook (plus a ``probe`` cell, not stored, that inspects its state), check its
    stored outputs are the ones it produces now, and return its outputs, their text, and the probe's output."""
    stored = nbformat.read(NOTEBOOKS / name, as_version=4)
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    if probe is not None:
        nb.cells.append(nbformat.v4.new_code_cell(probe))
    execute(nb, kernel_name)
    probed = "".join(o.get("text", "") for o in nb.cells.pop().outputs) if probe is not None else ""
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    errors = [o for o in outputs if o.output_type == "error" or (o.output_type == "stream" and o.name == "stderr")]
    assert not errors, f"{name}: {errors}"
    assert texts(stored.cells) == texts(nb.cells), f"{name}: stored outputs are stale: run _build.py"
    text = []
    for o in outputs:
        if o.output_type == "stream":
            text.append(o.text)
        elif o.output_type in ("execute_result", "display_data"):
            text.append(o.data.get("text/plain", ""))
    return outputs, "\n".join(text), probed


def test_kernel_is_this_interpreter(kernel: str) -> None:
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("import os, sys\nprint(sys.prefix)\nprint(os.environ['MPLBACKEND'])")]
    )
    execute(nb, kernel)
    assert nb.cells[0].outputs[0].text.split() == [sys.prefix, "Agg"]


def test_quickstart(kernel: str) -> None:
    outputs, text, _ = run_notebook("01_quickstart.ipynb", kernel)
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


#: Run in the kernel after notebook 02: what a reader sees in its figure (``fig``), as text.
PLAN_PROBE = """
for ax in fig.axes:
    fmt = ax.yaxis.get_major_formatter()
    print("axis", repr(ax.get_ylabel()), repr(ax.get_xlabel()), ax.get_ylim()[0], fmt(25000, 0))
    for line in ax.get_lines():
        print("line", line.get_label(), line.get_marker(), line.get_linestyle())
    print("bars", sorted({float(round(p.get_x() + p.get_width() / 2, 1)) for p in ax.patches})[:2])
    print("texts", [t.get_text() for t in ax.texts if t.get_text().startswith("total")])
"""


def test_plan_a_sync(kernel: str) -> None:
    outputs, text, probed = run_notebook("02_plan_a_sync.ipynb", kernel, PLAN_PROBE)
    assert "plan: 4 create" in text
    assert "total to bill: 28750.50 USD" in text
    assert "descriptions dropped: 2" in text
    assert "applied: 4 writes, ok=True" in text
    assert "second plan: 4 unchanged" in text
    # both schedules add up to the same exact total after the sync
    assert "autotask (source)  4 milestones, total  28,750.50 USD" in text
    assert "kantata (target)   4 milestones, total  28,750.50 USD" in text
    plots = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(plots) == 1 and "2 Axes" in plots[0]["data"]["text/plain"]
    axes = [line.split(" ", 1)[1] for line in probed.splitlines() if line.startswith("axis")]
    # money axes labelled with their currency, from 0, with thousands separators; the time axis labelled
    assert axes == ["'amount per milestone (USD)' '' 0.0 25,000", "'billed so far (USD)' 'due date' 0.0 25,000"]
    lines = [line for line in probed.splitlines() if line.startswith("line")]
    # the two cumulative lines are told apart by marker and line style, not colour alone
    assert lines == ["line autotask (source) o -", "line kantata (target) s --"]
    bars = next(line for line in probed.splitlines() if line.startswith("bars"))
    assert bars != "bars []" and len(ast.literal_eval(bars[5:])) == 2  # source and target bars side by side, offset
    assert "texts ['total 28,750.50 USD']" in probed


#: Run in the kernel after notebook 03: its figure's (``fig``) axes and annotations as text.
RECONCILE_PROBE = """
for ax in fig.axes:
    print("axis", repr(ax.get_xlabel()), ax.get_xlim()[0] if ax.get_xlabel().startswith("amount") else "-")
    print("gaps", [t.get_text() for t in ax.texts])
print("rows", [t.get_text().replace(chr(10), " / ") for t in fig.axes[0].get_yticklabels()])
"""


def test_reconcile(kernel: str) -> None:
    outputs, text, probed = run_notebook("03_reconcile.ipynb", kernel, RECONCILE_PROBE)
    assert "synced: 4 writes, ok=True" in text
    assert "right after the sync: 4 match" in text
    assert "report: 1 match, 2 differ, 2 source-only, 1 target-only" in text
    pad = " " * 4
    assert (
        f"differ       User training\n{pad}amount differs: target edited outside the sync; restoring the source" in text
    )
    assert f"target-only  Change request 7\n{pad}only on the target: no source milestone, link or sync key" in text
    html = "".join(o["data"].get("text/html", "") for o in outputs if "data" in o)
    # the reason column in full (no "..." cut), absent values None throughout, never NaN
    assert "only on the target: no source milestone, link or sync key points at it</td>" in html
    assert "NaN" not in html and "NaN" not in text
    assert "3250.00 USD" in html and "3400.00 USD" in html
    assert "axis 'amount (USD)' 0.0" in probed and "axis 'due date' -" in probed
    assert "gaps ['+150.00 USD']" in probed and "gaps ['+15 days']" in probed
    assert "'Change request 7 / target-only'" in probed and "'User training / differ'" in probed


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOKS / "_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_notebooks_are_stored_executed_with_small_images_and_match_their_generator() -> None:
    build = _generator()
    stored = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert stored == sorted(build.NOTEBOOKS), "every notebook comes from _build.py"
    for name, cells in build.NOTEBOOKS.items():
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code, name
        assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), f"{name} is not executed"
        assert any(c.outputs for c in code), f"{name} has no outputs"
        for cell in code:
            for o in cell.outputs:
                assert o.output_type != "error" and o.get("name") != "stderr", f"{name}: {o}"
                image = o.get("data", {}).get("image/png")
                assert image is None or len(image) * 3 // 4 <= build.MAX_IMAGE_BYTES, f"{name}: image too large"
        assert nb.metadata["kernelspec"]["name"] == "python3"
        expected = json.loads(nbformat.writes(build.build(name, cells)))
        assert json.loads(nbformat.writes(build.without_outputs(nb))) == expected, (
            f"{name} differs from _build.py: run `python examples/notebooks/_build.py`"
        )


def test_no_raw_pandas_series_is_shown() -> None:
    for path in NOTEBOOKS.glob("*.ipynb"):
        shown = texts(nbformat.read(path, as_version=4).cells)
        assert not [t for t in shown if "dtype: " in t or "Name: " in t], path.name


def test_no_notebook_blocks_on_show() -> None:
    for path in NOTEBOOKS.glob("*.ipynb"):
        assert "plt.show(" not in path.read_text(encoding="utf-8"), path.name
