"""A job's pair as the config file says now: a worker reads the file once, when it starts, and lives for
days; a pair retargeted or taken out of the file since (and then enqueued from the new file, or ticked by the
worker's own schedule) would be synced with the settings the worker read, its old target written. So each
job reads the file's pairs again and refuses, with a ConfigError (not retried), a pair that differs.

The file is parsed again only when its ``stat`` changed: a thousand pairs take ~30 ms to parse, which every
job would spend holding the GIL beside the job threads waiting on their requests. A file changed less than
:data:`RACY` seconds ago is parsed every time, as git treats a "racily clean" file: a filesystem's
timestamps are coarser than two writes of the same size can be apart."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from ..errors import ConfigError
from ..model import Platform
from ..sync.config import PairSettings, Settings, _pairs

__all__ = ["pair_as_configured_now"]

#: The fields shown with their values when they changed (the rest by name only: a pair's other settings
#: hold ids and dates, never a secret, but the endpoints are what a person needs to see).
_SHOWN: tuple[str, ...] = ("source", "target")


#: Seconds after its last change during which a file's ``stat`` is not trusted to tell a later change.
RACY: Final = 2.0

_parsed: dict[Path, tuple[tuple[int, int, int, int], Mapping[str, PairSettings]]] = {}
_parsed_lock = threading.Lock()


def _stat(path: Path) -> tuple[tuple[int, int, int, int], int]:
    """What tells a change of the file (its inode, size, modification and change times), and when it last
    changed."""
    info = os.stat(path)
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns), max(info.st_mtime_ns, info.st_ctime_ns)


def _pairs_now(path: Path) -> Mapping[str, PairSettings]:
    """The file's pairs as it is now (parsed again when its ``stat`` changed or is too recent to tell)."""
    key, changed = _stat(path)
    with _parsed_lock:
        cached = _parsed.get(path)
    if cached is not None and cached[0] == key:
        return cached[1]
    pairs = _pairs(tomllib.loads(path.read_text(encoding="utf-8")).get("pairs", {}))
    if time.time_ns() - changed > RACY * 1e9 and _stat(path)[0] == key:  # unchanged while it was read
        with _parsed_lock:
            _parsed[path] = (key, pairs)
    return pairs


def _endpoint(value: tuple[Platform, str]) -> str:
    return f"{value[0].value}:{value[1]}"


def pair_as_configured_now(settings: Settings, name: str) -> PairSettings:
    """The pair ``name`` the worker read, if the config file it read still says the same of it; else a
    ConfigError naming the pair and what changed (restart the workers to run the file as it is now)."""
    held = settings.pair(name)
    path = settings.path
    if path is None:  # settings built without a file: nothing to read again
        return held
    key = f"pairs.{name}"
    try:
        now = _pairs_now(path)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ConfigError) as exc:
        raise ConfigError(
            f"{key}: {path} could not be read again before the run ({type(exc).__name__}: {exc}); not run with "
            "the settings this worker read when it started",
            key=key,
        ) from None
    if name not in now:
        raise ConfigError(
            f"{key}: taken out of {path} since this worker read it; not run (restart the workers after changing "
            "the config: a worker keeps the schedule it read)",
            key=key,
        )
    current = now[name]
    if current == held:
        return held
    changed = [
        f"{f.name} {_endpoint(getattr(held, f.name))} -> {_endpoint(getattr(current, f.name))}"
        if f.name in _SHOWN
        else f.name
        for f in dataclasses.fields(held)
        if getattr(held, f.name) != getattr(current, f.name)
    ]
    raise ConfigError(
        f"{key}: changed in {path} since this worker read it ({', '.join(changed)}); not run with the settings it "
        "read: restart the workers after changing the config",
        key=key,
    )
