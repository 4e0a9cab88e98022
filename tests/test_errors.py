"""The exception tree drawn in errors.py's docstring, and what every error says about itself."""

from __future__ import annotations

import re

import pytest

from billing_milestones import errors
from billing_milestones.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BillingMilestonesError,
    ConfigError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PaginationError,
    PermissionDeniedError,
    RateLimitError,
    TranslationError,
    UnprocessableEntityError,
    UnsupportedOperationError,
    ValidationError,
    status_error_class,
)

#: Each class and its bases, in order: a [not sent] refusal is a RequestNotSentError first and keeps the base
#: it had before that branch existed, so except clauses written against the older tree still catch it.
TREE: dict[type[Exception], tuple[type[Exception], ...]] = {
    ValidationError: (BillingMilestonesError, ValueError),
    TranslationError: (BillingMilestonesError,),
    ConfigError: (BillingMilestonesError,),
    errors.ListingError: (BillingMilestonesError,),
    PaginationError: (errors.ListingError,),
    errors.DuplicateRecordError: (errors.ListingError,),
    errors.SyncError: (BillingMilestonesError,),
    errors.PairBusyError: (errors.SyncError,),
    errors.PendingWritesError: (errors.PairBusyError,),
    errors.LeaseLostError: (errors.SyncError,),
    errors.StalePlanError: (errors.SyncError,),
    errors.RequestNotSentError: (BillingMilestonesError,),
    errors.UntrustedHostError: (errors.RequestNotSentError, PaginationError),
    APIError: (BillingMilestonesError,),
    APIConnectionError: (APIError,),
    APITimeoutError: (APIConnectionError,),
    APIResponseValidationError: (APIError,),
    APIStatusError: (APIError,),
    BadRequestError: (APIStatusError,),
    AuthenticationError: (APIStatusError,),
    PermissionDeniedError: (APIStatusError,),
    NotFoundError: (APIStatusError,),
    ConflictError: (APIStatusError,),
    UnprocessableEntityError: (APIStatusError,),
    errors.MilestoneInvoicedError: (UnprocessableEntityError,),
    errors.InvoicedMilestoneRefusedError: (errors.RequestNotSentError, errors.MilestoneInvoicedError),
    RateLimitError: (APIStatusError,),
    errors.BudgetExhaustedError: (errors.RequestNotSentError, RateLimitError),
    InternalServerError: (APIStatusError,),
    UnsupportedOperationError: (errors.RequestNotSentError, APIStatusError),
}


@pytest.mark.parametrize(("child", "parents"), TREE.items(), ids=lambda c: getattr(c, "__name__", ""))
def test_tree(child: type[Exception], parents: tuple[type[Exception], ...]) -> None:
    assert child.__bases__ == parents
    assert issubclass(child, BillingMilestonesError)


def test_docstring_draws_every_class_and_nothing_else() -> None:
    drawn = set(re.findall(r"([A-Z]\w+Error)\b", errors.__doc__ or ""))
    drawn.discard("BillingMilestonesError")
    exported = {name for name in errors.__all__ if name.endswith("Error")} - {"BillingMilestonesError"}
    assert drawn == exported == {c.__name__ for c in TREE}


def test_validation_error_is_a_value_error() -> None:
    assert issubclass(ValidationError, ValueError)
    assert not issubclass(APIError, ValueError)
    err = ValidationError("amount: bad", field="amount", value=1.5)
    assert (err.message, err.field, err.value, str(err)) == ("amount: bad", "amount", 1.5, "amount: bad")


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (504, InternalServerError),
        (418, APIStatusError),
        (302, APIStatusError),
    ],
)
def test_status_error_class(status: int, cls: type[APIStatusError]) -> None:
    assert status_error_class(status) is cls


def _kwargs(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "platform": "kantata",
        "method": "POST",
        "path": "/api/v1/billing_milestones",
        "status_code": 422,
        "request_id": "req-123",
        "messages": ["title can't be blank", "amount is invalid"],
        "body": {"errors": ["..."]},
        "retries_taken": 1,
    }
    base.update(over)
    return base


def test_str_includes_everything_a_bug_report_needs() -> None:
    err = UnprocessableEntityError("HTTP 422 Unprocessable Entity", field="title", **_kwargs())
    text = str(err)
    for part in (
        "kantata",
        "POST",
        "/api/v1/billing_milestones",
        "422",
        "req-123",
        "title can't be blank",
        "amount is invalid",
        "HTTP 422",
    ):
        assert part in text, part
    assert text == (
        "HTTP 422 Unprocessable Entity [kantata POST /api/v1/billing_milestones -> 422 (request id req-123)]: "
        "title can't be blank; amount is invalid"
    )
    assert err.field == "title"
    assert err.body == {"errors": ["..."]}
    assert err.messages == ("title can't be blank", "amount is invalid")
    assert err.retries_taken == 1


def test_str_without_status_or_request_id() -> None:
    err = APIConnectionError("connection failed", platform="autotask", method="GET", path="/x")
    assert str(err) == "connection failed [autotask GET /x]"
    assert (err.status_code, err.request_id, err.messages, err.body, err.retries_taken) == (None, None, (), None, 0)


def test_rate_limit_error_carries_the_hint() -> None:
    err = RateLimitError("HTTP 429", retry_after=90.0, **_kwargs(status_code=429))
    assert err.retry_after == 90.0
    assert "429" in str(err)


def test_other_errors_keep_their_details() -> None:
    assert TranslationError("x", field="title", source={"a": 1}).source == {"a": 1}
    assert ConfigError("missing token", key="KANTATA_TOKEN").key == "KANTATA_TOKEN"
