"""What the sync and async clients of every platform share: lifecycle, options, the runner."""

from __future__ import annotations

import copy
import dataclasses
import os
from collections.abc import Mapping
from typing import Any, Generic, Self, TypedDict, TypeVar

import httpx

from ._http import (
    NOT_GIVEN,
    AsyncLimiter,
    AsyncRequestBudget,
    AsyncRunner,
    ClientCore,
    NotGiven,
    RetryPolicy,
    RunnerHooks,
    SyncLimiter,
    SyncRequestBudget,
    SyncRunner,
    resolve_timeout,
)
from .errors import ConfigError, ValidationError

__all__ = [
    "AsyncAPIClient",
    "AsyncTransport",
    "ClientOptions",
    "SyncAPIClient",
    "SyncTransport",
    "base_url_from_environment",
    "build_retry_policy",
    "check_max_pages",
    "core_options",
    "from_environment",
    "transport",
]


class ClientOptions(TypedDict, total=False):
    """The keyword options every client takes; each platform's ``Options`` adds its own."""

    max_retries: int | NotGiven
    timeout: float | httpx.Timeout | None | NotGiven
    retry_policy: RetryPolicy | None


class SyncTransport(TypedDict, total=False):
    """A blocking client's own connection pool, per-endpoint concurrency limiter (see ``_http._limits``) and
    request budget consulted before each attempt (see ``_http._budget``)."""

    http_client: httpx.Client | None
    limiter: SyncLimiter | None
    request_budget: SyncRequestBudget | None


class AsyncTransport(TypedDict, total=False):
    """An asyncio client's own connection pool, per-endpoint concurrency limiter and request budget (its
    ``acquire`` awaited when it is a coroutine function)."""

    http_client: httpx.AsyncClient | None
    limiter: AsyncLimiter | None
    request_budget: SyncRequestBudget | AsyncRequestBudget | None


_TRANSPORT = frozenset(SyncTransport.__optional_keys__)


def core_options(options: Mapping[str, Any], accepted: type, client: str) -> dict[str, Any]:
    """The options that build a client's core (``accepted``: the platform's Options TypedDict), without the
    pool and limiter. A keyword no client takes is a TypeError naming it, as a misspelt argument always was."""
    known = accepted.__required_keys__ | accepted.__optional_keys__  # type: ignore[attr-defined]
    unknown = sorted(set(options) - known - _TRANSPORT)
    if unknown:
        raise TypeError(f"{client} got unexpected keyword argument(s): {', '.join(unknown)}")
    return {k: v for k, v in options.items() if k not in _TRANSPORT}


def from_environment(client: str, given: Mapping[str, Any], variables: Mapping[str, str]) -> dict[str, Any]:
    """Each argument not given (None) read from its environment variable, the ones the CLI documents.

    An argument given wins; an unset or blank variable counts as missing, and every missing one is named in one
    ConfigError (``key`` = the first variable), before any request.
    """
    out = dict(given)
    missing = []
    for name, variable in variables.items():
        if out.get(name) is None:
            value = os.environ.get(variable, "").strip()
            if value:
                out[name] = value
            else:
                missing.append((name, variable))
    if missing:
        named = ", ".join(f"{name} (or {variable})" for name, variable in missing)
        raise ConfigError(
            f"{client}: missing {named}; pass it as an argument or set the environment variable",
            key=missing[0][1],
        )
    return out


def base_url_from_environment(options: Mapping[str, Any], variable: str) -> dict[str, Any]:
    """``base_url`` from ``variable`` when the caller did not pass one (an explicit ``base_url=`` always wins)."""
    value = os.environ.get(variable, "").strip()
    if "base_url" in options or not value:
        return dict(options)
    return {**options, "base_url": value}


def transport(options: Mapping[str, Any]) -> dict[str, Any]:
    """The pool (``http_client``), ``limiter`` and ``request_budget`` among a client's options, as keywords for
    the base class."""
    return {k: options[k] for k in _TRANSPORT if k in options}


def build_retry_policy(max_retries: int | NotGiven, retry_policy: RetryPolicy | None) -> RetryPolicy:
    """An explicit ``max_retries`` wins over the policy's own count (``max_retries=0``: no retries at all);
    left out, the policy's count applies (2 for the default policy)."""
    if not isinstance(max_retries, NotGiven) and (
        isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0
    ):
        raise ValidationError(
            f"max_retries must be a whole number of retries (0 or more), got {max_retries!r}",
            field="max_retries",
            value=max_retries,
        )
    if retry_policy is not None and not isinstance(retry_policy, RetryPolicy):
        raise ValidationError(
            f"retry_policy must be a RetryPolicy, got {type(retry_policy).__name__}", field="retry_policy"
        )
    policy = retry_policy or RetryPolicy()
    if isinstance(max_retries, NotGiven) or policy.max_retries == max_retries:
        return policy
    return dataclasses.replace(policy, max_retries=max_retries)


def check_max_pages(value: object) -> int:
    """A page ceiling is a positive whole number; anything else is refused by name before any request."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"max_pages must be a positive integer, got {value!r}", field="max_pages", value=value)
    return value


RunnerT = TypeVar("RunnerT", SyncRunner, AsyncRunner)


class _BaseClient(Generic[RunnerT]):
    """Options shared by both twins; only the runner (blocking or asyncio) differs."""

    _runner: RunnerT

    @property
    def _core(self) -> ClientCore:
        """The options requests go out with: the runner's (a hook may have moved it, e.g. to a zone)."""
        return self._runner.core

    def _init_resources(self) -> None:
        """Bind resource objects to this client (called again on copies made by :meth:`with_options`)."""

    def with_options(
        self,
        *,
        max_retries: int | NotGiven = NOT_GIVEN,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
        retry_policy: RetryPolicy | None = None,
        max_pages: int | None = None,
    ) -> Self:
        """A copy with other retry, timeout or paging settings, sharing this client's connection pool and
        limits. ``max_pages`` caps every listing (default 10,000 pages): beyond it a listing raises
        PaginationError rather than walk a server that never says the end."""
        changes: dict[str, Any] = {}
        if max_pages is not None:
            changes["max_pages"] = check_max_pages(max_pages)
        if retry_policy is not None or not isinstance(max_retries, NotGiven):
            policy = retry_policy or self._core.retry
            # A new policy brings its own retry count; an explicit max_retries wins over both.
            count = policy.max_retries if isinstance(max_retries, NotGiven) else max_retries
            changes["retry"] = build_retry_policy(count, policy)
        if not isinstance(timeout, NotGiven):
            changes["timeout"] = resolve_timeout(timeout, self._core.timeout)
        new = copy.copy(self)
        new._runner = self._runner.derive(self._core.with_options(**changes))
        new._init_resources()
        return new

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._core.retry

    @property
    def base_url(self) -> httpx.URL:
        return self._core.base_url


class SyncAPIClient(_BaseClient[SyncRunner]):
    """Base of the blocking clients. Subclasses create their resources in :meth:`_init_resources`."""

    def __init__(
        self,
        core: ClientCore,
        http_client: httpx.Client | None = None,
        *,
        limiter: SyncLimiter | None = None,
        hooks: RunnerHooks | None = None,
        request_budget: SyncRequestBudget | None = None,
    ) -> None:
        self._runner = SyncRunner(core, http_client, limiter=limiter, hooks=hooks, request_budget=request_budget)
        self._init_resources()

    def close(self) -> None:
        """Close the connection pool, unless it came from the caller (``http_client=``)."""
        self._runner.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncAPIClient(_BaseClient[AsyncRunner]):
    """Base of the asyncio clients; the same surface as :class:`SyncAPIClient` with awaitables (the pool an
    ``httpx.AsyncClient``, the limiter an async one)."""

    def __init__(self, core: ClientCore, http_client: httpx.AsyncClient | None = None, **runner: Any) -> None:
        self._runner = AsyncRunner(core, http_client, **runner)
        self._init_resources()

    async def close(self) -> None:
        """Close the connection pool, unless it came from the caller (``http_client=``)."""
        await self._runner.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
