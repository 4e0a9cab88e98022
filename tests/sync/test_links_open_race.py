"""Several openers of one new (or old) SQLite link store at once: each creates or migrates the schema, and
only one may write its version row or run its migration; the others must find it done, not fail."""

from __future__ import annotations

import sqlite3
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from billing_milestones.sync import LinkStore
from billing_milestones.sync.links import SCHEMA_VERSION

from ._old_stores import VERSION_1_SCHEMA

_OPENERS = 3


@pytest.fixture(autouse=True)
def _switch_often() -> Iterator[None]:
    """Threads switched every microsecond: the openers interleave between any two statements, as processes
    on several cores would (at the default 5 ms the race shows about once in a few hundred opens)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def _open_at_once(path: Path, rounds: int = 1) -> list[BaseException]:
    """Open ``path`` from several threads released together; the errors they raised."""
    failed: list[BaseException] = []
    for _ in range(rounds):
        start = threading.Barrier(_OPENERS)

        def open_it(start: threading.Barrier = start) -> None:
            start.wait()
            try:
                LinkStore(path).close()
            except BaseException as exc:  # reported by the test
                failed.append(exc)

        threads = [threading.Thread(target=open_it) for _ in range(_OPENERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return failed


def _version(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        return str(db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0])
    finally:
        db.close()


def test_openers_of_a_new_file_at_once_all_open_it(tmp_path: Path) -> None:
    for n in range(150):
        path = tmp_path / f"new-{n}.sqlite3"
        assert _open_at_once(path) == []
        assert _version(path) == str(SCHEMA_VERSION)


@pytest.mark.parametrize("rounds", [60])
def test_openers_of_a_version_1_store_at_once_migrate_it_once(tmp_path: Path, rounds: int) -> None:
    for n in range(rounds):
        path = tmp_path / f"v1-{n}.sqlite3"
        db = sqlite3.connect(path)
        db.executescript(
            VERSION_1_SCHEMA
            + """
            INSERT INTO links VALUES ('p', 'k1', 'autotask:1/1', 'kantata:2/101', 's', 't', 'then');
            """
        )
        db.commit()
        db.close()
        assert _open_at_once(path) == []
        assert _version(path) == str(SCHEMA_VERSION)
        with LinkStore(path) as store:
            (old,) = store.links("p")
            assert (old.sync_key, old.desired_fp) == ("k1", "")
