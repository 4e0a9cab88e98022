"""The registry: the one place that lists the platforms, mapping each to its :class:`PlatformSpec`.

Specs are imported on first use, so importing the registry does not import every client; a test can register
a platform of its own (:func:`register`) to show the sync engine needs nothing else.
"""

from __future__ import annotations

import importlib
import threading
from typing import Final

from ._platform_spec import PlatformSpec
from .model import Platform

__all__ = ["register", "spec_for"]

#: Where each built-in platform declares its spec.
_MODULES: Final = {
    Platform.KANTATA: "billing_milestones.kantata._spec",
    Platform.AUTOTASK: "billing_milestones.autotask._spec",
    Platform.CRMCOM: "billing_milestones.crmcom._spec",
}
_specs: dict[object, PlatformSpec] = {}
_lock = threading.Lock()


def spec_for(platform: object) -> PlatformSpec:
    """The spec of ``platform`` (a :class:`Platform`, or a key a test registered)."""
    spec = _specs.get(platform)
    if spec is not None:
        return spec
    module = _MODULES.get(platform)  # type: ignore[call-overload]
    if module is None:
        raise KeyError(f"no platform spec registered for {platform!r}")
    loaded: PlatformSpec = importlib.import_module(module).SPEC
    with _lock:
        _specs[platform] = loaded
    return loaded


def register(key: object, spec: PlatformSpec) -> None:
    """Register a spec under ``key`` (used by tests to add a fake platform)."""
    with _lock:
        _specs[key] = spec
