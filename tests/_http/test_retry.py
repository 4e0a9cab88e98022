"""Pure retry arithmetic: Retry-After parsing, backoff with jitter, policy validation."""

from __future__ import annotations

import datetime as dt
import random

import httpx
import pytest

from billing_milestones._http import RetryPolicy, backoff_delay, parse_retry_after
from billing_milestones.errors import ValidationError

NOW = dt.datetime(2026, 1, 15, 12, 0, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "20"}, 20.0),
        ({"retry-after": "20"}, 20.0),
        ({"Retry-After": " 2.5 "}, 2.5),
        ({"Retry-After": "60"}, 60.0),
        ({"Retry-After": "61"}, 61.0),  # reported as is; the cap is the core's decision
        ({"Retry-After": "Thu, 15 Jan 2026 12:00:30 GMT"}, 30.0),
        ({"Retry-After": "Thu, 15 Jan 2026 12:05:00 GMT"}, 300.0),
        ({"Retry-After": "Thu, 15 Jan 2026 11:59:00 GMT"}, None),  # in the past
        ({"Retry-After": "Thu, 15 Jan 2026 12:00:00 GMT"}, None),  # now
        ({"Retry-After": "15 Jan 2026 12:00:10"}, 10.0),  # no zone: GMT
        ({"Retry-After-Ms": "250"}, 0.25),
        ({"retry-after-ms": "1500", "retry-after": "20"}, 1.5),
        ({"retry-after-ms": "0", "retry-after": "20"}, 20.0),
        ({"retry-after-ms": "x", "retry-after": "3"}, 3.0),
        ({"Retry-After": "0"}, None),
        ({"Retry-After": "-10"}, None),
        ({"Retry-After": "junk"}, None),
        ({"Retry-After": ""}, None),
        ({"Retry-After": "nan"}, None),
        ({"Retry-After": "inf"}, None),
        ({"Retry-After": "1e400"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers, now=NOW) == expected
    assert parse_retry_after(httpx.Headers(headers), now=NOW) == expected


def test_parse_retry_after_date_against_the_real_clock() -> None:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=100)
    value = parse_retry_after({"Retry-After": when.strftime("%a, %d %b %Y %H:%M:%S GMT")})
    assert value is not None
    assert 97 <= value <= 100


class FixedRandom(random.Random):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


def test_backoff_nominal_values() -> None:
    policy = RetryPolicy()
    assert [backoff_delay(policy, n, rng=FixedRandom(0.0)) for n in range(7)] == [0.5, 1, 2, 4, 8, 8, 8]
    assert backoff_delay(policy, 10**9, rng=FixedRandom(0.0)) == 8.0  # no overflow


def test_backoff_jitter_bounds() -> None:
    policy = RetryPolicy()
    assert backoff_delay(policy, 0, rng=FixedRandom(1.0)) == 0.375  # 75 %
    assert backoff_delay(policy, 4, rng=FixedRandom(0.5)) == 7.0
    rng = random.Random(1)
    for n in range(6):
        nominal = min(0.5 * 2**n, 8.0)
        samples = [backoff_delay(policy, n, rng=rng) for _ in range(500)]
        assert all(0.75 * nominal <= s <= nominal for s in samples)
        assert min(samples) < 0.8 * nominal and max(samples) > 0.95 * nominal  # jitter really spreads


def test_backoff_follows_the_policy() -> None:
    policy = RetryPolicy(initial_delay=1.0, max_delay=3.0, jitter=0.0)
    assert [backoff_delay(policy, n) for n in range(4)] == [1.0, 2.0, 3.0, 3.0]


def test_policy_defaults() -> None:
    policy = RetryPolicy()
    assert (policy.max_retries, policy.initial_delay, policy.max_delay, policy.jitter) == (2, 0.5, 8.0, 0.25)
    assert policy.max_retry_after == 60.0
    assert policy.retry_statuses == {408, 429, 502, 503, 504}
    assert policy.post_safe_statuses == {429, 503}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_retries", -1),
        ("initial_delay", -0.1),
        ("max_delay", 0.1),
        ("jitter", 1.5),
        ("jitter", -0.1),
        ("max_retry_after", -1.0),
        ("total_budget", 0.0),
    ],
)
def test_policy_refuses_out_of_range_values(field: str, value: float) -> None:
    with pytest.raises(ValidationError, match=field) as info:
        RetryPolicy(**{field: value})  # type: ignore[arg-type]
    assert info.value.field == field
