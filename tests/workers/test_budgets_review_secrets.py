"""Review of the shared budgets' secrets: a URL libpq cannot read is refused when the limiter or budget is
made, by a ValidationError naming ``url`` and without the password, instead of being handed to a pool whose
connection attempts logged libpq's message, which quotes the whole URI or the token it could not read
(``psycopg.pool`` warnings ``error connecting in 'pool-1': ... "postgresql://u:s3cret@[::1/db"``, several a
second until the first take gave up). Nothing here connects."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from billing_milestones.errors import ValidationError
from billing_milestones.workers import PostgresHourlyBudget, PostgresLimiter

SECRET = "s3cret"


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://bm:{SECRET}@[::1/db",  # libpq quotes the whole URI
        f"postgresql://bm:{SECRET}%zz@localhost/db",  # libpq quotes the token it cannot decode
        f"postgresql://bm@localhost/db?password={SECRET}&bogus=1",
    ],
)
@pytest.mark.parametrize(
    "make",
    [
        lambda url: PostgresLimiter(url, 1, namespace="t"),
        lambda url: PostgresHourlyBudget(url, 5, key="t"),
    ],
    ids=["limiter", "budget"],
)
def test_an_unreadable_url_is_refused_by_name_without_its_password(
    url: str, make: Callable[[str], object], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ValidationError) as refused:
        make(url)
    assert refused.value.field == "url" and refused.value.value is None
    assert SECRET not in str(refused.value) and SECRET not in repr(refused.value)
    assert "url" in str(refused.value)
    assert SECRET not in caplog.text
