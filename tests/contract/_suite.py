"""Contract checks of every exchange the SDK has with an in-process sandbox, in any test of a platform's suite.

``tests/kantata/conftest.py`` and ``tests/crmcom/conftest.py`` run each of their tests inside :func:`checked`:
whatever options a test gives the client (paging, includes, filters, retries, both API styles), the requests
it sends must fit the vendor's description, and so must the emulator's answers to them
(:meth:`ApiDescription.judge` says what is left to the platform's own tests).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from billing_milestones.sandbox import SandboxTransport

from . import _specs
from ._openapi import ApiDescription, Exchange, load_description
from ._overrides import OVERRIDES

__all__ = ["checked", "description"]


@functools.cache
def description(platform: str) -> ApiDescription | None:
    """The platform's description with its overrides, or None where ``../shared/specs`` is absent."""
    relative = next(path for path, name in _specs.DESCRIPTIONS.items() if name == platform)
    path = _specs.SPECS / relative
    if not path.is_file():
        return None
    return load_description(path, platform, OVERRIDES, base_path=_specs.BASE_PATHS[platform])


@contextmanager
def checked(platform: str) -> Iterator[list[str]]:
    """Collects the contract problems of every sandbox exchange inside the block (none without a description)."""
    api = description(platform)
    found: list[str] = []

    def observe(request: httpx.Request, response: httpx.Response) -> None:
        if api is not None:
            found.extend(api.judge(Exchange(request, response)))

    SandboxTransport.observers.append(observe)
    try:
        yield found
    finally:
        SandboxTransport.observers.remove(observe)
