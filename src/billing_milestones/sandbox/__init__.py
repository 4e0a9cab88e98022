"""Local emulators of the three platforms, in-process (httpx transport) or on loopback (ASGI)."""

from ._asgi import LoopbackServer, combined_app, emulator_app
from ._emulator import Emulator, RequestLogEntry, Router, SandboxRequest, json_response
from ._faults import Fault, FaultKind, FaultPlan, FaultRule
from ._limits import RateLimit, Throttle
from ._transport import SandboxTransport
from .autotask import AutotaskSandbox
from .crmcom import CrmComSandbox
from .kantata import KantataSandbox

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
