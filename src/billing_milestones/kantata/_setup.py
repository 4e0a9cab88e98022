"""Building a Kantata client: its typed options and the checked core (one place for both clients)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import SecretStr

from .. import _base_client as base
from .._http import DEFAULT_TIMEOUT, NOT_GIVEN, ClientCore, NotGiven, RetryPolicy, resolve_timeout, secret_value
from ..model import Platform
from ._errors import error_detail, error_hook
from ._operations import KantataOperations

__all__ = ["DEFAULT_BASE_URL", "AsyncOptions", "Options", "SyncOptions", "build"]

#: The only host Kantata's docs name (no official api.kantata.com host exists).
DEFAULT_BASE_URL = "https://api.mavenlink.com/api/v1"


class Options(base.ClientOptions, total=False):
    """The keyword options both Kantata clients take (documented on :class:`KantataClient`)."""

    base_url: str | httpx.URL
    json_suffix: bool


class SyncOptions(Options, base.SyncTransport, total=False):
    """The blocking client's options."""


class AsyncOptions(Options, base.AsyncTransport, total=False):
    """The asyncio client's options."""


#: The environment variables the CLI documents, read when the argument is not given.
TOKEN_VARIABLE = "KANTATA_TOKEN"
BASE_URL_VARIABLE = "KANTATA_BASE_URL"


def build(token: str | SecretStr | None, options: Mapping[str, Any]) -> tuple[ClientCore, KantataOperations]:
    """The checked core and the operations for one client; ``token`` and ``base_url`` default to
    ``KANTATA_TOKEN`` and ``KANTATA_BASE_URL``."""
    given = base.from_environment("KantataClient", {"token": token}, {"token": TOKEN_VARIABLE})
    options = base.base_url_from_environment(options, BASE_URL_VARIABLE)
    return _build(given["token"], **base.core_options(options, Options, "KantataClient"))


def _build(
    token: str | SecretStr,
    *,
    base_url: str | httpx.URL = DEFAULT_BASE_URL,
    max_retries: int | NotGiven = NOT_GIVEN,
    timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    json_suffix: bool = False,
    retry_policy: RetryPolicy | None = None,
) -> tuple[ClientCore, KantataOperations]:
    secret = secret_value(token, field="token")

    def credentials() -> Mapping[str, str]:
        return {"Authorization": f"Bearer {secret.get_secret_value()}"}

    core = ClientCore(
        platform=Platform.KANTATA.value,
        base_url=httpx.URL(str(base_url)),
        credentials=credentials,
        retry=base.build_retry_policy(max_retries, retry_policy),
        timeout=resolve_timeout(timeout, DEFAULT_TIMEOUT),
        error_detail=error_detail,
        error_hook=error_hook,
    )
    return core, KantataOperations(json_suffix=json_suffix)
