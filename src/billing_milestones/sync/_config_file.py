"""Which config file the commands read, and where they looked when there is none.

Found in order: the path given (``--config``), ``$MILESTONES_CONFIG``, ``./milestones.toml``. Without any, the
commands still run on the environment alone, so the places looked in are kept for the message of the first
thing that needs the file (a pair, a crm.com draft): "no such pair (known: none)" would send a person looking
for a typo in a file that was never read.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ..errors import ConfigError

__all__ = ["CONFIG_ENV", "DEFAULT_FILE", "ConfigSource", "locate", "read"]

CONFIG_ENV: Final = "MILESTONES_CONFIG"
DEFAULT_FILE: Final = "milestones.toml"


@dataclass(frozen=True)
class ConfigSource:
    """The file read (None when none was found) and the places looked in, in order."""

    path: Path | None
    searched: tuple[str, ...] = ()

    def missing_hint(self) -> str:
        """The words that replace "known: none" when no file was read."""
        looked = "; ".join(self.searched)
        return f"no config file was found (looked in: {looked}); write one there, or pass --config PATH"


def locate(path: str | Path | None, environ: Mapping[str, str]) -> ConfigSource:
    """The config file to read; a path given explicitly (or by the variable) must exist."""
    if path:
        chosen = Path(path)
    elif environ.get(CONFIG_ENV):
        chosen = Path(environ[CONFIG_ENV])
    else:
        default = Path(DEFAULT_FILE)
        if default.is_file():
            return ConfigSource(default)
        where = ("--config (not given)", f"${CONFIG_ENV} (not set)", str(default.resolve()))
        return ConfigSource(None, where)
    if not chosen.is_file():
        raise ConfigError(f"config file {chosen} does not exist (check --config or ${CONFIG_ENV})", key="config")
    return ConfigSource(chosen)


def read(source: ConfigSource) -> dict[str, Any]:
    """The file's TOML tables (none without a file)."""
    if source.path is None:
        return {}
    try:
        return tomllib.loads(source.path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {source.path} is not valid TOML: {exc}", key="config") from None
