"""The registry: the one place that lists the platforms, mapping each to its :class:`PlatformSpec`.

Specs are imported on first use, so importing the registry does not import every client. A platform the
package does not ship (a test's fake, or a platform kept outside this package) is added with
:func:`add_platform`: it gets a :class:`Platform` value of its own, found by ``Platform(value)``, by the
validation of ``MilestoneKey.platform`` and by ``MilestoneKey.parse``, so the sync engine needs nothing else.
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Callable
from typing import Final

from ._platform_spec import PlatformSpec
from .errors import ValidationError
from .model import Platform

__all__ = ["add_platform", "register", "remove_platform", "spec_for"]

#: Where each built-in platform declares its spec.
_MODULES: Final = {
    Platform.KANTATA: "billing_milestones.kantata._spec",
    Platform.AUTOTASK: "billing_milestones.autotask._spec",
    Platform.CRMCOM: "billing_milestones.crmcom._spec",
}
#: A platform value is the first part of every key ("kantata:123/456") and of every sync key's input, so it
#: holds no ":" or "/" and keeps to what a config file can name.
_VALUE: Final = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_specs: dict[object, PlatformSpec] = {}
_added: dict[str, Platform] = {}
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


def add_platform(value: str, spec: Callable[[Platform], PlatformSpec]) -> Platform:
    """A new platform named ``value``, with the spec ``spec(platform)`` builds for it; returns its Platform.

    ``Platform`` stays the enum of the platforms this package ships: ``list(Platform)`` (the config's
    choices, the direction matrix) does not grow, while ``Platform(value)`` and every model that validates a
    platform accept the new one, as enum lookups accept a flag enum's combined values. Raises our
    ValidationError naming ``platform`` for a value that is malformed or already a platform.
    """
    if not isinstance(value, str) or not _VALUE.fullmatch(value):
        raise ValidationError(
            f"platform: expected lowercase letters, digits, '_' or '-' (up to 32, a letter first), got {value!r}",
            field="platform",
            value=value,
        )
    with _lock:
        if value in Platform._value2member_map_:
            raise ValidationError(f"platform: {value!r} is already a platform", field="platform", value=value)
        member = str.__new__(Platform, value)
        member._name_ = value.upper().replace("-", "_")
        member._value_ = value
        built = spec(member)
        if built.platform is not member:
            raise ValidationError(
                f"platform: the spec built for {value!r} names {built.platform!r}", field="platform", value=value
            )
        Platform._value2member_map_[value] = member
        _added[value] = member
        _specs[member] = built
    return member


def remove_platform(platform: Platform) -> None:
    """Undo :func:`add_platform` (a test's fake leaves no trace); a built-in platform cannot be removed."""
    with _lock:
        if _added.get(platform.value) is not platform:
            raise ValidationError(
                f"platform: {platform.value!r} was not added with add_platform", field="platform", value=platform.value
            )
        del _added[platform.value]
        del Platform._value2member_map_[platform.value]
        _specs.pop(platform, None)
