"""``links migrate``'s SQLite source, read without a write to it: not to its file, not to its folder.

Opening a store writes: it creates the tables, upgrades an older schema in place and puts the file in WAL
mode, and its transactions take the write lock. Even a read-only reader of a WAL file makes the ``-wal`` and
``-shm`` files beside it, and leaves them there owned by whoever ran the copy (a sync run as the store's
owner then cannot write them). So a store on a read-only backup or a mounted snapshot, in a folder the user
cannot write, or owned by another user could not be copied. Here SQLite's own read-only means open it:

- With no ``-wal`` (or an empty one) or ``-journal`` beside it, no connection has written it in WAL mode
  since the last one closed (which removes its ``-wal``) and none stopped mid-write, so every committed row
  is in the file itself: it is read as ``immutable``, without a lock or a side file. No lock keeps a writer
  out then, so a read that the file changed under (a sync started meanwhile writes its ``-wal``; a
  checkpoint or a rollback-journal write changes the file's content) is not used: the store is opened and
  read again, a few times at most.
- Otherwise (a sync has it open, or one was killed before it cleaned up) as ``mode=ro``, under SQLite's read
  lock and through the side files already there, which hold what that sync committed.

A store of an older schema version is copied with SQLite's backup API into a temporary file and that copy
upgraded, as any opener upgrades a store: the copy has the new shape, and the source keeps its own.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final, TypeVar

from ...errors import ConfigError
from ._model import SCHEMA_VERSION
from ._sqlite import _BUSY_TIMEOUT, SQLiteBackend
from .linkstore import LinkStore

__all__ = ["ReadOnlySQLite", "no_link_store", "read_only", "read_only_store"]

#: Files beside a store whose presence means a connection has it open, or one stopped mid-write: then what
#: the file alone holds may be behind what was committed.
_SIDE_FILES: Final = ("-wal", "-journal")
#: Reads of a store written under each before it is refused: a sync started during the first leaves its
#: ``-wal`` (read under SQLite's lock next time) or has finished, so a second read rarely fails again.
_ATTEMPTS: Final = 3

T = TypeVar("T")

Footprint = tuple[int, bytes, tuple[bool, ...]]


def _sides(path: Path) -> tuple[bool, ...]:
    """Which of :data:`_SIDE_FILES` are beside the store and hold something: an empty ``-wal`` (a sync
    killed before its first write, or the file's connection not yet written) holds no row the file lacks."""
    held = []
    for suffix in _SIDE_FILES:
        try:
            held.append(Path(f"{path}{suffix}").stat().st_size > 0 or suffix != "-wal")
        except FileNotFoundError:
            held.append(False)
    return tuple(held)


def _footprint(path: Path) -> Footprint:
    """What a write to the store changes: the file's identity and content, and which side files exist. The
    content, not the file's times: those tick at the kernel's clock (a few ms), and a write in the same tick
    as the one before would leave them as they were."""
    with path.open("rb") as file:
        digest = hashlib.file_digest(file, "blake2b").digest()
        inode = os.fstat(file.fileno()).st_ino
    return (inode, digest, _sides(path))


def no_link_store(shown: str) -> ConfigError:
    """The refusal of a source that holds no link store (no schema version recorded)."""
    return ConfigError(
        f"--from: no link store at {shown} (it holds no link store tables); name the store the syncs use",
        key="--from",
    )


def _unreadable(shown: str, exc: sqlite3.Error | OSError) -> ConfigError:
    return ConfigError(
        f"--from: the link store {shown} cannot be read as a SQLite file ({exc}); name the store the syncs use",
        key="--from",
    )


class _WrittenWhileRead(ConfigError):
    """An immutable read of a file that was written meanwhile: what it read may mix two states."""


class ReadOnlySQLite(SQLiteBackend):
    """A SQLite file opened so that SQLite refuses any statement that would write it ("attempt to write a
    readonly database"). Its transactions only read; an immutable one is refused if the file was written
    while it read, as no lock kept a writer out."""

    _begin = "BEGIN"

    def __init__(self, path: Path) -> None:  # no super().__init__: that one opens the file to write it
        self.display = str(path)
        self._lock = threading.RLock()
        self._depth = 0
        self._path = path
        #: Read as immutable (no side file holding anything was there), else as mode=ro.
        self.immutable = not any(_sides(path))
        try:
            self._opened = _footprint(path) if self.immutable else None
        except OSError as exc:
            raise _unreadable(self.display, exc) from exc
        query = "mode=ro&immutable=1" if self.immutable else "mode=ro"
        try:
            self.db = sqlite3.connect(
                f"{path.absolute().as_uri()}?{query}",
                uri=True,
                check_same_thread=False,
                isolation_level=None,
                timeout=_BUSY_TIMEOUT,
            )
        except sqlite3.Error as exc:
            raise _unreadable(self.display, exc) from exc
        self.db.row_factory = sqlite3.Row

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            try:
                with super().transaction():
                    yield
            except sqlite3.DatabaseError:  # a page rewritten under the read reads as malformed
                if self._depth == 0:
                    self._refuse_written()
                raise
            if self._depth == 0:
                self._refuse_written()

    def _refuse_written(self) -> None:
        if self._opened is None:
            return  # SQLite's read lock kept what was read consistent
        try:
            unchanged = _footprint(self._path) == self._opened
        except OSError:
            unchanged = False
        if not unchanged:
            raise _WrittenWhileRead(
                f"--from: the link store {self.display} was written each time it was read (a sync is "
                "running?); nothing was copied. Stop the syncs and migrate again",
                key="--from",
            )


def read_only(location: str, read: Callable[[LinkStore], T]) -> T:
    """``read`` of the SQLite store at ``location`` (:func:`read_only_store`), done again while the file is
    written under an immutable read of it, and refused after :data:`_ATTEMPTS` such reads."""
    for _ in range(_ATTEMPTS - 1):
        with contextlib.suppress(_WrittenWhileRead), read_only_store(location) as store:
            return read(store)
    with read_only_store(location) as store:
        return read(store)


@contextlib.contextmanager
def read_only_store(location: str) -> Iterator[LinkStore]:
    """The SQLite store at ``location`` to read: the file itself, opened read-only, or (an older schema
    version) an upgraded copy of it in a temporary folder, removed after. A file that holds no link store,
    or one of a newer version, is refused, naming ``--from``."""
    path = Path(location)
    backend = ReadOnlySQLite(path)
    try:
        found = _version(backend)
        if found == SCHEMA_VERSION:
            yield LinkStore.reading(backend)
            return
        with tempfile.TemporaryDirectory(prefix="milestones-migrate-") as folder:
            copy = Path(folder) / path.name
            target = sqlite3.connect(copy)
            try:
                with backend.transaction():  # the whole file as of one moment
                    backend.db.backup(target)
            finally:
                target.close()
            backend.close()
            with LinkStore(copy) as store:  # upgraded, as any opener upgrades an older store
                yield store
    finally:
        backend.close()


def _version(backend: ReadOnlySQLite) -> int:
    """The schema version the source records: one this SDK reads or upgrades, else refused."""
    try:
        with backend.transaction():
            tables = backend.rows("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'")
            rows = backend.rows("SELECT value FROM meta WHERE key='schema_version'") if tables else []
    except sqlite3.Error as exc:
        raise _unreadable(backend.display, exc) from exc
    if not rows:
        raise no_link_store(backend.display)
    text = str(rows[0]["value"])
    found = int(text) if text.isascii() and text.isdigit() else -1
    if not 1 <= found <= SCHEMA_VERSION:
        raise ConfigError(
            f"--from: link store {backend.display} has schema version {text}, this SDK reads version "
            f"{SCHEMA_VERSION}; use a matching SDK version or a new store",
            key="--from",
        )
    return found
