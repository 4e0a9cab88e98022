"""Building an Autotask client: its typed options, checked arguments, the core and the shared state.

Both clients (sync and async) are built here, so a bad argument is refused by name, before any request, the
same way in each; and the state a client shares with its ``with_options`` copies (the zone, the picklist and
the currency caches) is one object.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypedDict

import httpx
from pydantic import SecretStr

from .. import _base_client as base
from .. import errors
from .._checks import positive_int
from .._currency import check_currency
from .._http import (
    DEFAULT_TIMEOUT,
    NOT_GIVEN,
    NotGiven,
    RetryPolicy,
    resolve_timeout,
    secret_value,
)
from .._metadata_cache import DEFAULT_TTL, MetadataCache, tenant_key
from .._metadata_store import NameStore, PersistedMetadata, stable_key
from ..model import MilestoneKey, Platform
from . import _operations as ops
from .wire import ZoneInformation

__all__ = [
    "AsyncOptions",
    "CurrencySetting",
    "Options",
    "SharedState",
    "SyncOptions",
    "build",
    "container_id",
    "given_currency",
    "key_ids",
    "persist_in",
]

#: A base no request can reach: the zone core's URL until discovery has run.
_UNDISCOVERED = httpx.URL("https://zone-not-yet-discovered.invalid/ATServicesRest/V1.0")
CurrencySetting = str | Mapping[int, str] | None


class Credentials(TypedDict, total=False):
    """The API user's credentials, by name (or positionally, in this order); each defaults to its variable."""

    username: str | None
    secret: str | SecretStr | None
    integration_code: str | SecretStr | None


CREDENTIALS = ("username", "secret", "integration_code")


class Options(base.ClientOptions, total=False):
    """The keyword options both Autotask clients take (documented on :class:`AutotaskClient`)."""

    base_url: str | httpx.URL | None
    impersonation_resource_id: int | None
    max_threads: int
    hourly_budget: int | ops.RequestBudget | None
    discovery_url: str
    currency: CurrencySetting
    metadata_cache: MetadataCache | None


class SyncOptions(Credentials, Options, base.SyncTransport, total=False):
    """The blocking client's options."""


class AsyncOptions(Credentials, Options, base.AsyncTransport, total=False):
    """The asyncio client's options."""


class SharedState:
    """Per-client state shared with ``with_options`` copies: the zone, the picklist and currency caches, and
    the tenant's entries in the process-wide metadata cache (``metadata``; None: this client's own only)."""

    def __init__(self, explicit: httpx.URL | None, discovery: httpx.URL, currency: CurrencySetting) -> None:
        self.zone_url: httpx.URL | None = explicit
        self.explicit = explicit is not None
        #: Where zoneInformation is asked (``discovery_url``, completed to its REST base).
        self.discovery = discovery
        self.zone: ZoneInformation | None = None
        self.discoveries = 0
        #: The API user (zoneInformation asks by it).
        self.username = ""
        self.picklist: ops.StatusPicklist | None = None
        self.currency = currency
        self.currencies = ops.CurrencyCache()
        self.metadata: MetadataCache | None = None
        #: Opaque keys of this tenant's zone and picklist in ``metadata`` (digests: no secret readable).
        self.zone_key = ""
        self.picklist_key = ""
        #: The link store's tier behind ``metadata`` (``persist_in``; None: nothing outlives the process), and
        #: the entries' keys there: stable digests of non-secret parts only (see ``_metadata_store``).
        self.persisted: PersistedMetadata | None = None
        self.zone_name = ""
        self.picklist_name = ""

    def forget_cached(self) -> None:
        """Drop the tenant's shared zone and picklist (after a 401) in the process; with
        :meth:`forget_persisted`, the next client, in this process or another, reads them afresh."""
        if self.metadata is not None:
            self.metadata.forget(self.zone_key, self.picklist_key)

    def forget_persisted(self) -> None:
        """Drop them in the link store (a blocking call: the flows make it a step the async client runs off
        its event loop)."""
        if self.persisted is not None:
            self.persisted.drop(self.zone_name, self.picklist_name)


def persist_in(state: SharedState, store: NameStore | None) -> None:
    """Keep the tenant's zone and picklist in ``store`` too (None: no longer), for the TTL of the client's
    metadata cache (the default cache's without one)."""
    ttl = state.metadata.ttl if state.metadata is not None else DEFAULT_TTL
    state.persisted = PersistedMetadata(store, ttl=ttl) if store is not None else None


def _credentials(
    username: str, secret: SecretStr, integration_code: SecretStr, impersonation: int | None
) -> Callable[[], dict[str, str]]:
    def headers() -> dict[str, str]:
        out = {
            "ApiIntegrationCode": integration_code.get_secret_value(),
            "UserName": username,
            "Secret": secret.get_secret_value(),
        }
        if impersonation is not None:
            out["ImpersonationResourceId"] = str(impersonation)
        return out

    return headers


#: The environment variables the CLI documents, read when the argument is not given.
VARIABLES = {
    "username": "AUTOTASK_USERNAME",
    "secret": "AUTOTASK_SECRET",
    "integration_code": "AUTOTASK_INTEGRATION_CODE",
}
BASE_URL_VARIABLE = "AUTOTASK_BASE_URL"


def build(positional: Sequence[Any], options: Mapping[str, Any]) -> tuple[ops.AutotaskCore, SharedState]:
    """The checked core and the state a client shares with its ``with_options`` copies.

    ``username``, ``secret`` and ``integration_code`` come positionally or by name; those not given are read
    from AUTOTASK_USERNAME, AUTOTASK_SECRET and AUTOTASK_INTEGRATION_CODE, and ``base_url`` from
    AUTOTASK_BASE_URL (unset: the zone is discovered)."""
    if len(positional) > len(CREDENTIALS):
        raise TypeError(
            f"AutotaskClient takes at most {len(CREDENTIALS)} positional arguments: {', '.join(CREDENTIALS)}"
        )
    given: dict[str, Any] = dict(zip(CREDENTIALS, positional, strict=False))
    for name in CREDENTIALS:
        if name in options:
            if name in given:
                raise TypeError(f"AutotaskClient got multiple values for argument {name!r}")
            given[name] = options[name]
    creds = base.from_environment("AutotaskClient", given, VARIABLES)
    rest = {k: v for k, v in options.items() if k not in CREDENTIALS}
    rest = base.base_url_from_environment(rest, BASE_URL_VARIABLE)
    core_args = base.core_options(rest, Options, "AutotaskClient")
    core, state = _build(creds["username"], creds["secret"], creds["integration_code"], **core_args)
    state.username = creds["username"]
    return core, state


def _build(
    username: str,
    secret: str | SecretStr,
    integration_code: str | SecretStr,
    *,
    base_url: str | httpx.URL | None = None,
    impersonation_resource_id: int | None = None,
    max_retries: int | NotGiven = NOT_GIVEN,
    timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    retry_policy: RetryPolicy | None = None,
    max_threads: int = 3,
    hourly_budget: int | ops.RequestBudget | None = None,
    discovery_url: str = ops.DEFAULT_DISCOVERY_URL,
    currency: CurrencySetting = None,
    metadata_cache: MetadataCache | None = None,
) -> tuple[ops.AutotaskCore, SharedState]:
    if not isinstance(username, str) or not username.strip():
        raise errors.ValidationError("username: expected the API user's name", field="username")
    positive_int(max_threads, "max_threads")
    if impersonation_resource_id is not None:
        ops._check_id(impersonation_resource_id, "impersonation_resource_id")
    secret_s = secret_value(secret, field="secret")
    code_s = secret_value(integration_code, field="integration_code")
    budget = (
        hourly_budget
        if isinstance(hourly_budget, ops.RequestBudget) or hourly_budget is None
        else ops.HourlyBudget(hourly_budget)
    )
    explicit = ops.explicit_base(base_url) if base_url is not None else None
    # One core for the zone and for discovery: zoneInformation goes out unauthenticated, to an absolute URL,
    # so it carries no credentials and is not charged to the hourly budget.
    core = ops.AutotaskCore(
        platform=ops.PLATFORM,
        base_url=explicit or _UNDISCOVERED,
        credentials=_credentials(username, secret_s, code_s, impersonation_resource_id),
        retry=base.build_retry_policy(max_retries, retry_policy),
        timeout=resolve_timeout(timeout, DEFAULT_TIMEOUT),
        max_in_flight=max_threads,
        budget=budget,
    )
    state = SharedState(explicit, ops.discovery_base(discovery_url), _checked_setting(currency))
    state.metadata = _checked_cache(metadata_cache)
    # The zone depends on the user alone (zoneInformation is unauthenticated); the picklist on everything that
    # decides what the API answers this client, credentials included, so another secret shares nothing.
    state.zone_key = tenant_key("autotask.zone", str(state.discovery), username)
    where = str(explicit or state.discovery)
    tenant = (where, username, secret_s.get_secret_value(), code_s.get_secret_value(), str(impersonation_resource_id))
    state.picklist_key = tenant_key("autotask.picklist", *tenant)
    # Persisted keys must match in another process, so they digest no secret (a stable digest of one could be
    # tested against guesses): the same user at the same host shares the tenant's zone and status labels,
    # whatever its secret; a wrong secret still gets its 401 on the first request, which drops them.
    state.zone_name = stable_key("autotask.zone", str(state.discovery), username)
    state.picklist_name = stable_key("autotask.picklist", where, username, str(impersonation_resource_id))
    return core, state


def _checked_cache(cache: object) -> MetadataCache | None:
    """None: nothing shared; else a MetadataCache (anything else is refused by name, before any request)."""
    if cache is None or isinstance(cache, MetadataCache):
        return cache
    raise errors.ValidationError(
        f"metadata_cache: expected a MetadataCache or None, got {type(cache).__name__}", field="metadata_cache"
    )


def _checked_setting(currency: object) -> CurrencySetting:
    """The client's ``currency=`` checked where it is given (the one ISO 4217 check ``Money`` makes), so
    ``currency='dollars'`` is refused by name now instead of failing two requests later on ``amount``."""
    if currency is None:
        return None
    if isinstance(currency, Mapping):
        return {
            ops._check_id(contract, "currency (contract id)"): check_currency(code)
            for contract, code in currency.items()
        }
    return check_currency(currency)


def given_currency(state: SharedState, contract_id: int, override: str | None) -> str | None:
    """The caller's currency (per call, then the client's str or mapping); None means resolve it."""
    if override is not None:
        return check_currency(override)
    setting = state.currency
    if isinstance(setting, str):
        return setting
    if setting is not None and contract_id in setting:
        return setting[contract_id]
    return None


def container_id(given: str | int) -> int:
    """A contract id as the common view takes it (``"29683001"`` or an int), checked to be a positive int.

    Only digits or an int name a contract: ``int()`` would read ``True`` as contract 1 and ``1.9`` as 1."""
    text = given.strip() if isinstance(given, str) else None
    if text is not None and text.isascii() and text.isdigit():
        return ops._check_id(int(text), "contractID")
    if isinstance(given, int) and not isinstance(given, bool):
        return ops._check_id(given, "contractID")
    raise errors.ValidationError(f"contract id: expected an integer id, got {given!r}", field="contractID", value=given)


def key_ids(key: MilestoneKey) -> tuple[int, int]:
    """(contract id, milestone id) of an Autotask key; a key of another platform is refused by name."""
    if key.platform is not Platform.AUTOTASK:
        raise errors.ValidationError(f"key: {key} is not an Autotask milestone", field="key", value=str(key))
    return container_id(key.container_id), container_id(key.id)
