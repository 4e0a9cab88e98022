"""``links migrate`` never writes its SQLite source: not the file (no schema upgrade in place, no lock that
needs write access), not its folder (no ``-wal``, ``-shm`` or journal made there). So a store on a read-only
backup or snapshot, in a folder the user cannot write, or owned by another user is copied; and an older one
is copied in the new shape from an upgraded temporary copy, the source keeping its own."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from billing_milestones.errors import ConfigError
from billing_milestones.sync import Link, LinkStore
from billing_milestones.sync.store._backend import Row
from billing_milestones.sync.store._model import SCHEMA_VERSION, TABLES
from billing_milestones.sync.store.migrate import copy_store

from ._old_stores import VERSION_1_SCHEMA
from .test_links_migrate import every_row, fill

#: A time long past: a write to a file or folder sets its mtime to now, whatever the clock's tick.
_LONG_AGO = 1_500_000_000


def current_store(folder: Path) -> Path:
    path = folder / "links.sqlite3"
    with LinkStore(path) as store:
        fill(store)
    return path


def version_1_store(folder: Path) -> Path:
    path = folder / "v1.db"
    with sqlite3.connect(path) as db:
        db.executescript(
            VERSION_1_SCHEMA
            + "INSERT INTO links VALUES ('p', 'k1', 'autotask:1/1', 'kantata:2/101', 's1', 't1', 'then');"
        )
    db.close()
    return path


STORES = pytest.mark.parametrize("make", [current_store, version_1_store], ids=["current", "version-1"])


def state(path: Path) -> tuple[str, int, list[str], int]:
    """The file's bytes and mtime, its folder's listing and mtime: what any write to either changes."""
    return (
        hashlib.sha256(path.read_bytes()).hexdigest(),
        path.stat().st_mtime_ns,
        sorted(os.listdir(path.parent)),
        path.parent.stat().st_mtime_ns,
    )


def aged(path: Path) -> Path:
    """``path`` and its folder dated long ago, so a write to either shows in its mtime."""
    for each in (path, path.parent):
        os.utime(each, (_LONG_AGO, _LONG_AGO))
    return path


@contextlib.contextmanager
def unwritable(*paths: Path) -> Iterator[None]:
    """``paths`` that no one may write: chattr +i as root (whom permission bits do not stop), else chmod."""
    if os.geteuid() != 0:
        modes = {path: path.stat().st_mode for path in paths}
        for path in paths:
            path.chmod(modes[path] & ~0o222)
        try:
            yield
        finally:
            for path in paths:
                path.chmod(modes[path])
        return
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed: root cannot be kept from writing a file here")
    done: list[Path] = []
    try:
        for path in paths:
            result = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True, check=False)
            if result.returncode:
                pytest.skip(f"chattr +i is refused here ({result.stderr.strip()})")
            done.append(path)
        yield
    finally:
        for path in reversed(done):
            subprocess.run(["chattr", "-i", str(path)], check=True)


@STORES
def test_the_source_and_its_folder_are_left_as_they_were(tmp_path: Path, make: Any) -> None:
    (tmp_path / "src").mkdir()
    source = aged(make(tmp_path / "src"))
    before = state(source)
    copied = copy_store(source, tmp_path / "b.db")
    assert state(source) == before  # not a byte, not a -wal, -shm or journal made and removed
    assert copied["links"] >= 1
    with LinkStore(tmp_path / "b.db") as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert [(ln.sync_key, ln.desired_fp) for ln in store.links("p")][:1] in ([("k3", "d3")], [("k1", "")])


def test_an_older_store_is_copied_in_the_new_shape_and_keeps_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where the upgraded copy is made
    source = version_1_store(tmp_path)
    copy_store(source, tmp_path / "b.db")
    with sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True) as db:
        assert db.execute("SELECT value FROM meta").fetchall() == [("1",)]
        assert "desired_fp" not in [row[1] for row in db.execute("PRAGMA table_info(links)")]
    db.close()
    assert every_row(str(tmp_path / "b.db"))["links"] == [
        {
            "pair_id": "p",
            "sync_key": "k1",
            "source_key": "autotask:1/1",
            "target_key": "kantata:2/101",
            "source_fp": "s1",
            "target_fp": "t1",
            "updated_at": "then",
            "desired_fp": "",
        }
    ]
    assert list(scratch.iterdir()) == []  # the upgraded copy is removed


@STORES
def test_a_source_no_one_may_write_is_copied(tmp_path: Path, make: Any) -> None:
    """A read-only backup, a mounted snapshot, another user's file in a folder this user cannot write."""
    (tmp_path / "src").mkdir()
    source = aged(make(tmp_path / "src"))
    before = state(source)
    with unwritable(source, source.parent):
        copied = copy_store(source, tmp_path / "b.db")
    assert copied["links"] >= 1 and state(source) == before


def test_an_empty_wal_left_beside_a_source_no_one_may_write_is_no_obstacle(tmp_path: Path) -> None:
    """A sync killed before its first write leaves an empty ``-wal``: it holds no row the file lacks, so the
    file is read alone (read through the -wal, SQLite would need a ``-shm`` it cannot make there)."""
    (tmp_path / "src").mkdir()
    source = current_store(tmp_path / "src")
    Path(f"{source}-wal").touch()
    before = state(aged(source))
    with unwritable(source, source.parent):
        assert copy_store(source, tmp_path / "b.db")["links"] == 4
    assert state(source) == before


@STORES
def test_every_connection_to_the_source_is_read_only(
    tmp_path: Path, make: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The source is opened only with SQLite's mode=ro, under which SQLite refuses any write: no code path
    of the copy can write it."""
    source = make(tmp_path)
    opened: list[str] = []
    connect = sqlite3.connect

    def recording(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        opened.append(str(database))
        db: sqlite3.Connection = connect(database, *args, **kwargs)
        return db

    monkeypatch.setattr(sqlite3, "connect", recording)
    copy_store(source, tmp_path / "b.db")
    monkeypatch.undo()
    of_source = [url for url in opened if str(source) in url]
    assert of_source and all(url.startswith(source.as_uri() + "?mode=ro") for url in of_source), opened


def test_a_store_a_connection_holds_open_is_read_through_its_wal(tmp_path: Path) -> None:
    """A store with its ``-wal`` beside it (a sync has it open, or was killed) holds rows its file does not
    yet: it is read under SQLite's read lock through that -wal, not as the file alone."""
    source = current_store(tmp_path)
    with LinkStore(source) as holder:
        holder.put(Link("p", "k7", "s7", "t7", "a", "b"))  # in the -wal, not yet in the file
        assert Path(f"{source}-wal").stat().st_size > 0
        copy_store(source, tmp_path / "b.db")
        with LinkStore(tmp_path / "b.db") as store:
            assert store.get("p", "k7") is not None
        holder.put(Link("p", "k8", "s8", "t8", "a", "b"))  # the source is still writable by its syncs


def test_a_source_written_under_every_read_is_refused_and_nothing_is_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read without a lock (no sync had it open), a store that a write lands under is read again; one that
    is written under each read is refused, naming --from, rather than copied as a mix of two moments."""
    source = current_store(tmp_path)
    dump = LinkStore.dump
    writes: list[int] = []

    def dump_then_write(self: LinkStore, table: str) -> list[Row]:
        rows = dump(self, table)
        if table == "links" and self.path == str(source):
            with LinkStore(source) as writer:  # a sync run between the copy's reads of two tables
                writer.remember("n", str(len(writes)), "v")
            writes.append(1)
        return rows

    monkeypatch.setattr(LinkStore, "dump", dump_then_write)
    with pytest.raises(ConfigError, match="was written each time it was read") as info:
        copy_store(source, tmp_path / "b.db")
    assert info.value.key == "--from" and len(writes) == 3
    assert not (tmp_path / "b.db").exists()
    monkeypatch.setattr(LinkStore, "dump", dump)
    copy_store(source, tmp_path / "b.db")
    assert every_row(str(tmp_path / "b.db")) == every_row(str(source))
    assert set(every_row(str(source))) == set(TABLES)
