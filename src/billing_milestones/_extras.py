"""Optional dependencies: a clear message naming the extra to install, instead of a bare ImportError.

The SDK itself needs httpx, pydantic, tenacity and iso4217 only. The CLI (typer, rich) and the loopback
sandbox server (starlette, uvicorn) are extras, so a library user does not install a terminal UI and a web
server to call an API.
"""

from __future__ import annotations

import importlib.util

__all__ = ["MissingExtraError", "require"]


class MissingExtraError(ImportError):
    """An optional part of the SDK was used without its extra installed."""


def require(extra: str, *modules: str) -> None:
    """Raise MissingExtraError naming ``pip install 'billing-milestones[extra]'`` if a module is missing."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingExtraError(
            f"this needs {', '.join(missing)}: pip install 'billing-milestones[{extra}]'", name=missing[0]
        )
