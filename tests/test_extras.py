"""The SDK installs only what it needs: the CLI and the loopback server are extras, imported on use."""

from __future__ import annotations

import subprocess
import sys

OPTIONAL = ("rich", "typer", "starlette", "uvicorn")


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


_USE = (
    "import sys, billing_milestones, billing_milestones.sync, billing_milestones.sandbox\n"
    "from billing_milestones.sync import plan_sync, apply_plan, LinkStore\n"
    "from billing_milestones.sandbox import KantataSandbox\n"
    "from billing_milestones import KantataClient\n"
    "box = KantataSandbox(); ws = box.add_workspace()\n"
    "print(list(KantataClient('t', http_client=box.http_client()).milestones.list(ws)))\n"
)


def test_the_sdk_sync_and_in_process_sandboxes_work_without_any_optional_library() -> None:
    done = _run(_BLOCK.format(blocked=OPTIONAL) + _USE)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_importing_the_sdk_loads_no_cli_or_server_library() -> None:
    # rich is left out: httpx itself imports it (for its own command line) whenever it is installed.
    done = _run(_USE + f"print(sorted(m for m in {OPTIONAL[1:]!r} if m in sys.modules))\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"


_BLOCK = "import sys\nfor name in {blocked!r}:\n    sys.modules[name] = None  # as if not installed\n"


def test_the_command_without_its_extra_names_the_extra_to_install() -> None:
    code = _BLOCK.format(blocked=("typer",)) + "from billing_milestones._entry import main\nmain()\n"
    done = _run(code)
    assert done.returncode == 2
    assert "pip install 'billing-milestones[cli]'" in done.stderr and "Traceback" not in done.stderr


def test_serving_a_sandbox_without_its_extra_names_the_extra_to_install() -> None:
    code = (
        _BLOCK.format(blocked=("starlette", "uvicorn"))
        + "from billing_milestones.sandbox import KantataSandbox\n"
        + "from billing_milestones._extras import MissingExtraError\n"
        + "try:\n    KantataSandbox().asgi_app()\nexcept MissingExtraError as exc:\n    print(exc)\n"
    )
    done = _run(code)
    assert done.returncode == 0, done.stderr
    assert "billing-milestones[sandbox]" in done.stdout
