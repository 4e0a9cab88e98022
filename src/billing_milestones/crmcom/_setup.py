"""Building a crm.com client: its typed options, the checked core and the credentials (one place for both)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any, Literal, TypedDict

import httpx
from pydantic import SecretStr

from .. import _base_client as base
from .. import errors
from .._http import DEFAULT_TIMEOUT, NOT_GIVEN, ClientCore, NotGiven, RetryPolicy, resolve_timeout, secret_value
from ..model import Platform
from . import _operations as ops
from .adapter import AmountPreference

__all__ = ["Api", "AsyncOptions", "Options", "Setup", "SyncOptions", "build"]

Api = Literal["self-service", "backoffice"]


class Options(base.ClientOptions, total=False):
    """The keyword options both crm.com clients take (documented on :class:`CrmComClient`)."""

    bearer_token: str | SecretStr | None
    base_url: str | httpx.URL
    api: Api
    refresh_token: str | SecretStr | None
    token_expires_at: float | None
    bearer_prefix: bool | None
    prefer: AmountPreference | str


class SyncOptions(Options, base.SyncTransport, total=False):
    """The blocking client's options."""


class AsyncOptions(Options, base.AsyncTransport, total=False):
    """The asyncio client's options."""


class Setup(TypedDict):
    """What both clients are made of."""

    core: ClientCore
    auth: ops.AuthState
    api: Api
    prefer: AmountPreference | str


#: The environment variables the CLI documents, read when the argument is not given.
API_KEY_VARIABLE = "CRMCOM_API_KEY"
BEARER_TOKEN_VARIABLE = "CRMCOM_BEARER_TOKEN"
BASE_URL_VARIABLE = "CRMCOM_BASE_URL"


def build(api_key: str | SecretStr | None, options: Mapping[str, Any]) -> Setup:
    """The checked core and credentials for one client. With neither ``api_key`` nor ``bearer_token`` given,
    CRMCOM_API_KEY and CRMCOM_BEARER_TOKEN are read; ``base_url`` defaults to CRMCOM_BASE_URL. A client
    with no credential at all stays possible: it may log a contact in (``authenticate_contact``) first."""
    options = base.base_url_from_environment(options, BASE_URL_VARIABLE)
    if api_key is None and options.get("bearer_token") is None:
        api_key = os.environ.get(API_KEY_VARIABLE, "").strip() or None
        token = os.environ.get(BEARER_TOKEN_VARIABLE, "").strip()
        if token:
            options = {**options, "bearer_token": token}
    return _build(api_key, **base.core_options(options, Options, "CrmComClient"))


def _build(
    api_key: str | SecretStr | None,
    *,
    bearer_token: str | SecretStr | None = None,
    base_url: str | httpx.URL = ops.DEFAULT_BASE_URL,
    api: Api = "self-service",
    max_retries: int | NotGiven = NOT_GIVEN,
    timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    retry_policy: RetryPolicy | None = None,
    refresh_token: str | SecretStr | None = None,
    token_expires_at: float | None = None,
    bearer_prefix: bool | None = None,
    prefer: AmountPreference | str = AmountPreference.AMOUNT,
) -> Setup:
    auth = ops.AuthState(
        api_key=secret_value(api_key, field="api_key") if api_key is not None else None,
        access_token=secret_value(bearer_token, field="bearer_token") if bearer_token is not None else None,
        refresh_token=secret_value(refresh_token, field="refresh_token") if refresh_token is not None else None,
        expires_at=_expiry(token_expires_at),
        # Self-Service documents "Bearer"; the Backoffice client seen in the wild sends the raw token ([U]).
        bearer_prefix=(api == "self-service") if bearer_prefix is None else bearer_prefix,
    )
    core = ClientCore(
        platform=Platform.CRMCOM.value,
        base_url=ops.api_base_url(base_url, api),
        credentials=auth.headers,
        retry=base.build_retry_policy(max_retries, retry_policy),
        timeout=resolve_timeout(timeout, DEFAULT_TIMEOUT),
        error_detail=ops.error_detail,
    )
    return {"core": core, "auth": auth, "api": api, "prefer": _preference(prefer)}


def _expiry(value: object) -> float | None:
    """``token_expires_at``: Unix seconds (0 or any past time: expired, refreshed before the first call).
    A negative, non-finite or non-numeric value is no time at all, refused by name before any request."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise errors.ValidationError(
            f"token_expires_at: expected Unix seconds (a number >= 0), got {value!r}",
            field="token_expires_at",
            value=value,
        )
    return float(value)


def _preference(value: object) -> AmountPreference:
    """``prefer``: one of AmountPreference's values, refused by name (not as the enum's bare ValueError)."""
    if isinstance(value, str) and value in {p.value for p in AmountPreference}:
        return AmountPreference(value)
    choices = ", ".join(repr(p.value) for p in AmountPreference)
    raise errors.ValidationError(f"prefer: expected one of {choices}, got {value!r}", field="prefer", value=value)
