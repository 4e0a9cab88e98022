"""Retry rules that mutation testing showed no test stated (``make mutate``); one test per rule."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import httpx
import pytest

from billing_milestones import errors
from billing_milestones._http import RequestSpec, RetryPolicy, parse_retry_after
from billing_milestones.errors import ValidationError


def test_the_default_policy_is_two_retries_half_a_second_doubling_to_eight_within_two_minutes() -> None:
    policy = RetryPolicy()
    assert (policy.max_retries, policy.initial_delay, policy.max_delay, policy.jitter) == (2, 0.5, 8.0, 0.25)
    assert (policy.max_retry_after, policy.total_budget) == (60.0, 120.0)
    assert policy.retry_statuses == {408, 429, 502, 503, 504}
    assert policy.post_safe_statuses == {429, 503}


def test_a_policy_cannot_be_changed_once_made() -> None:
    policy = RetryPolicy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.max_retries = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    "edge",
    [
        {"initial_delay": 0.0, "max_delay": 0.0},
        {"initial_delay": 2.0, "max_delay": 2.0},
        {"jitter": 1.0},
        {"jitter": 0.0},
        {"max_retry_after": 0.0},
        {"max_retry_after": 0.5},
        {"total_budget": 0.5},
        {"max_retries": 0},
    ],
)
def test_the_edges_of_every_range_are_allowed(edge: dict[str, Any]) -> None:
    policy = RetryPolicy(**edge)
    assert all(getattr(policy, name) == value for name, value in edge.items())


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("max_retries", -1),
        ("initial_delay", -0.1),
        ("max_delay", 0.4),
        ("jitter", 1.01),
        ("jitter", -0.01),
        ("max_retry_after", -1.0),
        ("total_budget", 0.0),
    ],
)
def test_an_out_of_range_setting_is_refused_by_name_and_value(name: str, value: float) -> None:
    setting: dict[str, Any] = {name: value}
    with pytest.raises(ValidationError) as info:
        RetryPolicy(**setting)
    assert (info.value.message, info.value.field, info.value.value) == (
        f"RetryPolicy.{name}: {value!r} is out of range",
        name,
        value,
    )


@pytest.mark.parametrize("text", ["inf", "-inf", "nan", "1e999"])
def test_an_infinite_or_undefined_wait_is_no_hint(text: str) -> None:
    assert parse_retry_after({"retry-after": text}) is None
    assert parse_retry_after({"retry-after-ms": text}) is None


def test_a_refused_long_wait_is_logged_with_the_request_and_both_numbers(
    kit: Any, caplog: pytest.LogCaptureFixture
) -> None:
    core = kit.make_core(retry=RetryPolicy(max_retry_after=10))
    spec = RequestSpec("GET", "/things")
    response = httpx.Response(503, headers={"retry-after": "12"}, request=httpx.Request("GET", kit.BASE_URL))
    try:
        core.raise_for_status(spec, response)
    except errors.APIError as exc:
        with caplog.at_level(logging.INFO, logger="billing_milestones"):
            assert core.should_retry(spec, exc) is False
    assert "not retrying GET /v1: server asks to wait 12.0s, above the 10s cap" in caplog.messages
