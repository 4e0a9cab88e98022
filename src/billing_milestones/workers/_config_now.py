"""A job's pair as the config file says now: a worker reads the file once, when it starts, and lives for
days; a pair retargeted or taken out of the file since (and then enqueued from the new file, or ticked by the
worker's own schedule), or its platform's table changed (``[kantata] base_url``: another instance), would be
synced with the settings the worker read, its old target written. So each job reads the file again and
refuses, with a ConfigError (not retried), a pair that differs.

The pair is compared as parsed with the worker's own; a platform's table, and ``links`` (the worker's store
and queue stay the ones it opened), as the file said them when the worker started (:class:`ConfigNow` reads
it then), since the environment may override their values and is not read again. The file is parsed again
only when its ``stat`` changed: a thousand pairs take ~30 ms to parse, which every job would spend holding
the GIL beside the job threads waiting on their requests. A file changed less than :data:`RACY` seconds ago
is parsed every time, as git treats a "racily clean" file: a filesystem's timestamps are coarser than two
writes of the same size can be apart."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
import time
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from ..errors import ConfigError
from ..model import Platform
from ..sync._store_config import links_target
from ..sync.config import PairSettings, Settings, _pairs

__all__ = ["ConfigNow"]

#: Seconds after its last change during which a file's ``stat`` is not trusted to tell a later change.
RACY: Final = 2.0
#: The fields shown with their values when they changed (the rest by name only: the endpoints are what a
#: person needs to see; a platform's table may hold a user name).
_SHOWN: Final = ("source", "target")
#: What a file that cannot be read (gone, not UTF-8, not TOML, a pair it cannot parse) raises.
_UNREADABLE: Final = (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ConfigError)


@dataclasses.dataclass(frozen=True)
class _Read:
    pairs: Mapping[str, PairSettings]
    #: Each platform's table as the file has it (the environment's overrides not applied).
    tables: Mapping[Platform, Any]
    #: The file's ``links`` as written (None: not given).
    links: Any = None


_parsed: dict[Path, tuple[tuple[int, int, int, int], _Read]] = {}
_parsed_lock = threading.Lock()


def _stat(path: Path) -> tuple[tuple[int, int, int, int], int]:
    """What tells a change of the file (its inode, size, modification and change times), and when it last
    changed."""
    info = os.stat(path)
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns), max(info.st_mtime_ns, info.st_ctime_ns)


def _read(path: Path) -> _Read:
    """The file as it is now (parsed again when its ``stat`` changed or is too recent to tell)."""
    key, changed = _stat(path)
    with _parsed_lock:
        cached = _parsed.get(path)
    if cached is not None and cached[0] == key:
        return cached[1]
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    read = _Read(_pairs(data.get("pairs", {})), {p: data.get(p.value, {}) for p in Platform}, data.get("links"))
    if time.time_ns() - changed > RACY * 1e9 and _stat(path)[0] == key:  # unchanged while it was read
        with _parsed_lock:
            _parsed[path] = (key, read)
    return read


def _endpoint(value: tuple[Platform, str]) -> str:
    return f"{value[0].value}:{value[1]}"


class ConfigNow:
    """The worker's settings, and its config file's platform tables as they were when it started."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        #: None without a file, or one unreadable now (each job then says so).
        self._tables: Mapping[Platform, Any] | None = None
        #: The file's ``links`` when the worker's store (and queue) is the one it names, not the environment's.
        self._links: tuple[Any] | None = None
        if settings.path is not None:
            with contextlib.suppress(*_UNREADABLE):
                read = _read(settings.path)
                self._tables = read.tables
                given = {} if read.links is None else {"links": read.links}
                if links_target(given, settings.path, {}) == settings.links:
                    self._links = (read.links,)

    def pair(self, name: str) -> PairSettings:
        """The pair ``name`` the worker read, if the config file still says the same of it and of its
        platforms' tables; else a ConfigError naming the pair and what changed (restart the workers)."""
        held = self.settings.pair(name)
        path = self.settings.path
        if path is None:  # settings built without a file: nothing to read again
            return held
        key = f"pairs.{name}"
        try:
            now = _read(path)
        except _UNREADABLE as exc:
            raise ConfigError(
                f"{key}: {path} could not be read again before the run ({type(exc).__name__}: {exc}); not run "
                "with the settings this worker read when it started",
                key=key,
            ) from None
        if name not in now.pairs:
            raise ConfigError(
                f"{key}: taken out of {path} since this worker read it; not run (restart the workers after "
                "changing the config: a worker keeps the schedule it read)",
                key=key,
            )
        current = now.pairs[name]
        changed = [
            f"{f.name} {_endpoint(getattr(held, f.name))} -> {_endpoint(getattr(current, f.name))}"
            if f.name in _SHOWN
            else f.name
            for f in dataclasses.fields(held)
            if getattr(held, f.name) != getattr(current, f.name)
        ]
        if self._links is not None and self._links != (now.links,):
            # Its store and queue are still the old one, which the commands reading the file now (enqueue,
            # sync, runs) no longer use: two stores, each creating every milestone. Named, never shown (a URL).
            changed.append("links")
        for platform in dict.fromkeys((held.source[0], held.target[0])):
            before, after = self._tables_at_start(platform, now), now.tables[platform]
            keys = sorted(k for k in {*before, *after} if before.get(k) != after.get(k))
            changed += [f"{platform.value}.{k}" for k in keys]
        if not changed:
            return held
        raise ConfigError(
            f"{key}: changed in {path} since this worker read it ({', '.join(changed)}); not run with the settings "
            "it read: restart the workers after changing the config",
            key=key,
        )

    def _tables_at_start(self, platform: Platform, now: _Read) -> Any:
        return now.tables[platform] if self._tables is None else self._tables[platform]
