"""The ``milestones`` command: list, plan, sync, sandbox serve and demo.

Each command lives in its own module and registers itself on :data:`app` when imported here; a new command
is a new module plus one import line below.

Exit codes: 0 done; 1 the sync found problems (conflicts, duplicates, failed writes, a listing that cannot be
trusted, a platform error); 2 bad usage or configuration; 3 another run holds the pair (nothing written).
"""

from __future__ import annotations

from . import _list, _sandbox, _sync  # noqa: F401  (importing registers the commands)
from ._common import EXIT_BUSY, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, app
from ._list import render_milestones

__all__ = ["EXIT_BUSY", "EXIT_OK", "EXIT_PROBLEMS", "EXIT_USAGE", "app", "main", "render_milestones"]


def main() -> None:
    """Console-script entry point (``_entry.main`` reaches it once the ``[cli]`` extra is known installed)."""
    app()
