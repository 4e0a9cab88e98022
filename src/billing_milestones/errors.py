"""Every exception the SDK raises, in one place.

    BillingMilestonesError
    ├── ValidationError            bad input, caught before any request is sent
    ├── TranslationError           a translation between platforms would lose information
    ├── ConfigError                missing or invalid configuration (CLI, sync config)
    ├── ListingError               a listing that cannot be trusted: a plan is never built from it
    │   ├── PaginationError            a server's paging would loop, repeat or leave the configured host
    │   │   └── UntrustedHostError         [not sent] a next-page link on another host (no credentials go there)
    │   └── DuplicateRecordError       one record listed twice (e.g. a repeated source key)
    ├── SyncError                  the sync engine stopped before writing (or before the next write)
    │   ├── PairBusyError              another run holds the pair's lease (CLI exit 3)
    │   │   └── PendingWritesError         a stopped run's writes may still land: not listed yet (exit 3)
    │   ├── LeaseLostError             this run's lease expired or was taken over mid-run
    │   └── StalePlanError             the pair's links changed after the plan was made: plan again
    ├── RequestNotSentError        the SDK refused before sending: nothing reached the platform
    │   ├── UnsupportedOperationError  the platform forbids the operation (e.g. Autotask delete)
    │   ├── InvoicedMilestoneRefusedError  Kantata: the milestone is known to be on an invoice
    │   ├── BudgetExhaustedError       the client-side share of Autotask's hourly request threshold is used up
    │   └── UntrustedHostError         credentials would go to a host the client does not trust
    └── APIError                   something went wrong talking to a platform
        ├── APIConnectionError     no usable response (DNS, refused, reset, dropped)
        │   └── APITimeoutError    connect/read/write/pool timeout
        ├── APIResponseValidationError  a 2xx body that does not match the wire model
        └── APIStatusError         the platform answered with an error status
            ├── BadRequestError            400
            ├── AuthenticationError        401
            ├── PermissionDeniedError      403
            ├── NotFoundError              404
            ├── ConflictError              409
            ├── UnprocessableEntityError   422
            │   └── MilestoneInvoicedError     Kantata: the milestone is on an invoice
            │       └── InvoicedMilestoneRefusedError  [not sent]
            ├── RateLimitError             429 (and platform throttles such as Autotask's thread threshold)
            │   └── BudgetExhaustedError       [not sent]
            ├── InternalServerError        >= 500
            └── UnsupportedOperationError  [not sent]

Every APIError carries the platform, method, URL path, status, request id, the platform's own
messages and the raw body, so a log line or a bug report needs nothing else. An APIStatusError built from
an answer also carries it whole: ``.response`` (the ``httpx.Response``) and ``.request`` (the
``httpx.Request`` that was sent); an APIConnectionError carries the ``.request`` that failed.

The refusals marked [not sent] are RequestNotSentErrors: ``except RequestNotSentError`` catches every
refusal made before any I/O (they have no status and no response; retrying the same call cannot help).
Each also stays where it stood before this branch existed (an UnsupportedOperationError is still an
APIStatusError, the budget refusal a RateLimitError, and so on), so ``except`` clauses written against
the older tree still catch them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BillingMilestonesError",
    "BudgetExhaustedError",
    "ConfigError",
    "ConflictError",
    "DuplicateRecordError",
    "InternalServerError",
    "InvoicedMilestoneRefusedError",
    "LeaseLostError",
    "ListingError",
    "MilestoneInvoicedError",
    "NotFoundError",
    "PaginationError",
    "PairBusyError",
    "PendingWritesError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestNotSentError",
    "StalePlanError",
    "SyncError",
    "TranslationError",
    "UnprocessableEntityError",
    "UnsupportedOperationError",
    "UntrustedHostError",
    "ValidationError",
    "status_error_class",
]


class BillingMilestonesError(Exception):
    """Base of every error this SDK raises on purpose."""


class ValidationError(BillingMilestonesError, ValueError):
    """Input refused before sending: names the field and what is wrong with the value."""

    def __init__(self, message: str, *, field: str | None = None, value: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.value = value


class TranslationError(BillingMilestonesError):
    """A translation would lose or invent information; the caller must decide."""

    def __init__(self, message: str, *, field: str | None = None, source: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.source = source


class ConfigError(BillingMilestonesError):
    """Configuration is missing or invalid; the message says which key and how to fix it."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.key = key


class ListingError(BillingMilestonesError):
    """A listing is incomplete or inconsistent. The planner deletes what it does not see and creates what it
    sees twice, so nothing is planned from such a listing."""


class PaginationError(ListingError):
    """A page link would loop forever, repeat a page or an item, or point at a host we must not send
    credentials to."""


class RequestNotSentError(BillingMilestonesError):
    """Refused before sending: nothing reached the platform, so nothing changed there.

    A marker branch: every subclass is also the error it was before this branch existed (see the tree),
    and carries that error's attributes. Retrying the same call cannot succeed until the cause is gone.
    """


class UntrustedHostError(RequestNotSentError, PaginationError):
    """A server-sent link (a next page) points at a host other than the client's: the request that would
    carry the credentials there is not sent."""


class DuplicateRecordError(ListingError):
    """The same record appears twice in one listing; ``key`` names it."""

    def __init__(self, message: str, *, key: str) -> None:
        super().__init__(message)
        self.message = message
        self.key = key


class SyncError(BillingMilestonesError):
    """The sync engine refused to go on; nothing more was written."""

    def __init__(self, message: str, *, pair_id: str) -> None:
        super().__init__(message)
        self.message = message
        self.pair_id = pair_id


class PairBusyError(SyncError):
    """Another run holds the pair's lease: one writer per pair. ``owner`` and ``expires_at`` say whose and
    until when (a crashed run's lease expires on its own)."""

    def __init__(self, message: str, *, pair_id: str, owner: str, expires_at: str) -> None:
        super().__init__(message, pair_id=pair_id)
        self.owner = owner
        self.expires_at = expires_at


class PendingWritesError(PairBusyError):
    """Writes of a run that stopped (killed mid-write) are pending and younger than the settle window: their
    requests may still be being served, so the target is not listed (a create missed there would be sent
    again). Nothing was listed or written; rerun once they settle. ``pending`` is how many writes,
    ``settles_at`` (also ``expires_at``) when they do, as ISO text; ``owner`` is empty (intents name none)."""

    def __init__(self, message: str, *, pair_id: str, pending: int, settles_at: str) -> None:
        super().__init__(message, pair_id=pair_id, owner="", expires_at=settles_at)
        self.pending = pending
        self.settles_at = settles_at


class LeaseLostError(SyncError):
    """This run's lease expired (a stall longer than its time to live) or another run took it over; the run
    stopped before its next write. Rerun: intents and sync keys make the rerun safe."""


class StalePlanError(SyncError):
    """The pair's links changed after the plan was made (another run applied in between); applying it could
    create what that run created. Plan again."""


class APIError(BillingMilestonesError):
    """A request to a platform failed."""

    def __init__(
        self,
        message: str,
        *,
        platform: str,
        method: str,
        path: str,
        status_code: int | None = None,
        request_id: str | None = None,
        messages: Sequence[str] = (),
        body: Any = None,
        retries_taken: int = 0,
        request: httpx.Request | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.platform = platform
        self.method = method
        self.path = path
        self.status_code = status_code
        self.request_id = request_id
        self.messages: tuple[str, ...] = tuple(messages)
        self.body = body
        self.retries_taken = retries_taken
        #: The request that was sent (or failed to be); None when nothing was sent.
        self.request = request

    def __str__(self) -> str:
        where = f"{self.platform} {self.method} {self.path}"
        status = f" -> {self.status_code}" if self.status_code is not None else ""
        rid = f" (request id {self.request_id})" if self.request_id else ""
        detail = f": {'; '.join(self.messages)}" if self.messages else ""
        return f"{self.message} [{where}{status}{rid}]{detail}"


class APIConnectionError(APIError):
    """No usable response arrived; whether the request reached the server is unknown."""


class APITimeoutError(APIConnectionError):
    """A connect, read, write or pool timeout."""


class APIResponseValidationError(APIError):
    """A successful response whose body does not match the documented shape."""


class APIStatusError(APIError):
    """The platform answered with a non-success status (or, on Autotask and Kantata, an error body).

    ``response`` is the answer whole (headers such as ``Retry-After`` included) and ``request`` the request
    it answered; both are None only on the refusals made before sending (see RequestNotSentError).
    """

    def __init__(self, message: str, *, response: httpx.Response | None = None, **kwargs: Any) -> None:
        if response is not None and kwargs.get("request") is None:
            kwargs["request"] = response.request
        super().__init__(message, **kwargs)
        self.response = response


class BadRequestError(APIStatusError):
    """HTTP 400."""


class AuthenticationError(APIStatusError):
    """HTTP 401: credentials missing, wrong or revoked."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403: the credentials lack a permission."""


class NotFoundError(APIStatusError):
    """HTTP 404, or a platform's way of saying "no such record" (Autotask's ``item: null``)."""


class ConflictError(APIStatusError):
    """HTTP 409."""


class UnprocessableEntityError(APIStatusError):
    """HTTP 422: the platform rejected a field; ``field`` names it when the platform does."""

    def __init__(self, message: str, *, field: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.field = field


class MilestoneInvoicedError(UnprocessableEntityError):
    """Kantata refuses to edit or delete a milestone that sits on an invoice.

    Mapped from the server's 422; when the client already knows the milestone is invoiced it raises the
    subclass InvoicedMilestoneRefusedError instead, before sending. Code that catches 422s catches both.
    """


class InvoicedMilestoneRefusedError(RequestNotSentError, MilestoneInvoicedError):
    """The milestone is known to be invoiced (its ``invoice_id`` is set): the edit or delete is not sent."""


class RateLimitError(APIStatusError):
    """HTTP 429 or a platform throttle; ``retry_after`` holds the server's hint in seconds, if any."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class BudgetExhaustedError(RequestNotSentError, RateLimitError):
    """The client-side hourly budget (Autotask ``hourly_budget=``) is used up; ``retry_after`` says when a
    slot frees. Not sent, so the tenant's own threshold was not touched."""


class InternalServerError(APIStatusError):
    """HTTP 5xx. Autotask also uses 500 for business-rule failures; ``messages`` has its text."""


class UnsupportedOperationError(RequestNotSentError, APIStatusError):
    """The platform does not allow this operation at all (raised before sending)."""


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    """The most specific error class for an HTTP status."""
    if status_code >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status_code, APIStatusError)
