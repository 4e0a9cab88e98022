"""Sans-IO HTTP core shared by every platform client (private: import from here inside the package only)."""

from ._budget import AsyncRequestBudget, SlidingWindowBudget, SyncRequestBudget
from ._core import ClientCore, ErrorDetail, default_error_detail, request_id_of
from ._flow import Blocking, Flow, RunnerHooks, blocking, just, one
from ._json import dumps, loads
from ._limits import AsyncioLimiter, AsyncLimiter, SyncLimiter, ThreadLimiter
from ._metrics import METRICS_LOGGER
from ._redact import REDACTED, logger, redact_headers, register_secret, scrub, secret_value
from ._request import (
    APIResponse,
    Operation,
    Page,
    PagedOperation,
    RequestSpec,
    ResponseAware,
    ResponseInfo,
    Retryable,
)
from ._retry import RetryPolicy, backoff_delay, parse_retry_after
from ._runner import AsyncRunner, SyncRunner
from ._types import DEFAULT_TIMEOUT, NOT_GIVEN, NotGiven, resolve_timeout, timeout_bound

__all__ = [
    "DEFAULT_TIMEOUT",
    "METRICS_LOGGER",
    "NOT_GIVEN",
    "REDACTED",
    "APIResponse",
    "AsyncLimiter",
    "AsyncRequestBudget",
    "AsyncRunner",
    "AsyncioLimiter",
    "Blocking",
    "ClientCore",
    "ErrorDetail",
    "Flow",
    "NotGiven",
    "Operation",
    "Page",
    "PagedOperation",
    "RequestSpec",
    "ResponseAware",
    "ResponseInfo",
    "RetryPolicy",
    "Retryable",
    "RunnerHooks",
    "SlidingWindowBudget",
    "SyncLimiter",
    "SyncRequestBudget",
    "SyncRunner",
    "ThreadLimiter",
    "backoff_delay",
    "blocking",
    "default_error_detail",
    "dumps",
    "just",
    "loads",
    "logger",
    "one",
    "parse_retry_after",
    "redact_headers",
    "register_secret",
    "request_id_of",
    "resolve_timeout",
    "scrub",
    "secret_value",
    "timeout_bound",
]
