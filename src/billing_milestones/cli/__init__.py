"""The ``milestones`` command: list, plan, sync, sandbox serve and demo.

Each command lives in its own module and registers itself on :data:`app` when imported here; a new command
is a new module plus one import line below.

Exit codes: one table, :data:`EXIT_CODES` (0 done, 1 problems found, 2 bad usage or configuration, 3 another run
holds the pair, 130 stopped by you), shown by ``milestones --help``.
"""

from __future__ import annotations

from . import _check, _list, _reconcile, _sandbox, _store, _sync  # noqa: F401  (importing registers the commands)
from . import _worker as _worker_commands  # noqa: F401  (worker, enqueue)
from ._common import EXIT_BUSY, EXIT_CODES, EXIT_INTERRUPTED, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, app
from ._list import render_milestones

__all__ = [
    "EXIT_BUSY",
    "EXIT_CODES",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PROBLEMS",
    "EXIT_USAGE",
    "app",
    "main",
    "render_milestones",
]


def main() -> None:
    """Console-script entry point (``_entry.main`` reaches it once the ``[cli]`` extra is known installed)."""
    app()
