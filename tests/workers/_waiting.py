"""Polling for a condition another thread or process brings about, bounded so a test fails instead of hanging."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(check: Callable[[], object], what: str, bound: float = 20.0) -> None:
    """Return once ``check()`` is true; fail naming ``what`` after ``bound`` seconds."""
    deadline = time.monotonic() + bound
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)
