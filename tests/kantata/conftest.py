"""Every Kantata test is also a contract test: what the client sends to an in-process sandbox, and what the
emulator answers, must fit Kantata's published description (``tests/contract``; skipped without ``../shared``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..contract._suite import checked


@pytest.fixture(autouse=True)
def _speaks_the_documented_api() -> Iterator[None]:
    with checked("kantata") as problems:
        yield
    if problems:
        pytest.fail("against Kantata's description:\n" + "\n".join(sorted(set(problems))), pytrace=False)
