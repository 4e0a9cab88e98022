"""``milestones links migrate``: copy a whole link store to another backend without losing a row.

Moving from the embedded SQLite file to PostgreSQL (or back) must keep every link (a lost link means a
second copy of that milestone on the next sync), every open intent (the trace of a crash), the pair versions
(a plan made before the move is still refused as stale), the remembered names and the run history. Rows
are copied as they are, ids included, table by table; the destination must be empty, so two stores are
never merged by accident, and the source is only read.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import ConfigError
from ._model import TABLES
from ._url import parse_target
from .linkstore import LinkStore

__all__ = ["copy_store"]


def copy_store(source: str | Path, destination: str | Path) -> dict[str, int]:
    """Copy every table of ``source`` into the empty store ``destination``; rows copied per table."""
    src_target, dst_target = parse_target(source, key="--from"), parse_target(destination, key="--to")
    if src_target == dst_target:
        raise ConfigError("--to: the destination is the source; name another store", key="--to")
    if src_target.kind == "sqlite" and src_target.location != ":memory:" and not Path(src_target.location).is_file():
        raise ConfigError(f"--from: no link store at {src_target.location}", key="--from")
    with LinkStore(source) as src, LinkStore(destination) as dst:
        filled = [table for table in TABLES if dst.dump(table)]
        if filled:
            raise ConfigError(
                f"--to: the store {dst.path} already holds rows ({', '.join(filled)}); migrate into an empty store",
                key="--to",
            )
        copied: dict[str, int] = {}
        for table in TABLES:
            rows = src.dump(table)
            dst.load(table, rows)
            copied[table] = len(rows)
    return copied
