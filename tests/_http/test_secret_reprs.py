"""Objects holding a secret mask it in repr; error bodies lose the client's own secrets (issue 12, point 2)."""

from __future__ import annotations

import httpx
import pytest

from billing_milestones import errors
from billing_milestones._http import RequestSpec, register_secret
from billing_milestones._http._core import check_base_url
from billing_milestones._http._redact import scrub_data

from .conftest import make_core

PASSWORD = "hunter2-canary-9"
PUBLIC_KEY = "pk-canary-5b4a"


def test_a_login_request_repr_shows_neither_the_password_nor_the_key() -> None:
    spec = RequestSpec(
        "POST",
        "/contacts/authenticate",
        json={"authentication_type": "EMAIL", "username": "a@b.c", "password": PASSWORD},
        headers={"api_key": PUBLIC_KEY, "Accept": "application/json"},
    )
    text = repr(spec)
    assert PASSWORD not in text and PUBLIC_KEY not in text
    assert "a@b.c" in text and "/contacts/authenticate" in text  # still useful for debugging


def test_a_refresh_request_repr_hides_the_refresh_token() -> None:
    spec = RequestSpec("POST", "/contacts/refresh", json={"refresh_token": "rt-canary-77"})
    assert "rt-canary-77" not in repr(spec)


def test_a_registered_secret_is_scrubbed_from_any_value_in_a_body() -> None:
    register_secret("tok-canary-31337")
    body = {"errors": [{"message": "bad token tok-canary-31337"}], "nested": {"token": "whatever"}}
    cleaned = scrub_data(body)
    assert "tok-canary-31337" not in repr(cleaned) and "whatever" not in repr(cleaned)


async def test_an_error_body_echoing_a_credential_is_scrubbed(harness: object) -> None:
    from billing_milestones._http import Operation

    secret = "tok-S3CRET-9f8e7d6c5b4a"  # the harness client's own token (registered by make_core)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": f"token {secret} rejected", "password": "x-pass-1"})

    h = harness(handler)  # type: ignore[operator]
    with pytest.raises(errors.AuthenticationError) as info:
        await h.execute(Operation(RequestSpec("GET", "/x"), lambda r: r.json()))
    assert secret not in repr(info.value.body) and "x-pass-1" not in repr(info.value.body)


@pytest.mark.parametrize("bad", ["not a url", "ftp://example.com", "https://", "/relative/path", "http://[::1"])
def test_a_base_url_must_be_absolute_http_with_a_host(bad: str) -> None:
    with pytest.raises(errors.ValidationError) as info:
        check_base_url(bad, field="base_url")
    assert info.value.field == "base_url"
    with pytest.raises(errors.ValidationError):
        make_core(base_url=httpx.URL(bad) if bad != "http://[::1" else bad)
