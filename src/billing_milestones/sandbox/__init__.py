"""Local emulators of the three platforms, in-process (httpx transport) or on loopback (ASGI).

In-process use needs nothing beyond the SDK. Serving on loopback (``LoopbackServer``, ``combined_app``,
``emulator_app``, ``asgi_app()``) needs the ``sandbox`` extra (starlette, uvicorn), imported on first use; the
extra also brings httptools and uvloop, which uvicorn serves on when they are installed (about a sixth less CPU
a request), and falls back to h11 on asyncio without them.
"""

from typing import TYPE_CHECKING, Any

from .._extras import require
from ._emulator import Emulator, RequestLogEntry, Router, SandboxRequest, json_response
from ._faults import Fault, FaultKind, FaultPlan, FaultRule
from ._limits import RateLimit, Throttle
from ._transport import SandboxTransport
from .autotask import AutotaskSandbox
from .crmcom import CrmComSandbox
from .kantata import KantataSandbox

if TYPE_CHECKING:
    from ._asgi import LoopbackServer, combined_app, emulator_app

_SERVING = frozenset({"LoopbackServer", "combined_app", "emulator_app"})


def __getattr__(name: str) -> Any:
    if name in _SERVING:
        require("sandbox", "starlette", "uvicorn")
        from . import _asgi

        return getattr(_asgi, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AutotaskSandbox",
    "CrmComSandbox",
    "Emulator",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "FaultRule",
    "KantataSandbox",
    "LoopbackServer",
    "RateLimit",
    "RequestLogEntry",
    "Router",
    "SandboxRequest",
    "SandboxTransport",
    "Throttle",
    "combined_app",
    "emulator_app",
    "json_response",
]
