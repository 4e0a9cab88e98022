"""Secrets stay out of logs, reprs and error text."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from pydantic import SecretStr

from billing_milestones._http import REDACTED, logger, redact_headers, register_secret, scrub, secret_value
from billing_milestones.errors import ValidationError

SECRET = "sk-live-REDACT-me-0123456789"


def test_secret_value_accepts_str_and_secretstr() -> None:
    a = secret_value(SECRET, field="token")
    b = secret_value(SecretStr(SECRET + "-b"), field="token")
    assert isinstance(a, SecretStr) and isinstance(b, SecretStr)
    assert a.get_secret_value() == SECRET
    assert SECRET not in repr(a) and SECRET not in str(a)
    assert scrub(f"x {SECRET}-b y") == f"x {REDACTED} y"  # the longer secret is replaced whole


@pytest.mark.parametrize("bad", ["", SecretStr(""), None, 123])
def test_secret_value_refuses_empty_or_wrong_types(bad: Any) -> None:
    with pytest.raises(ValidationError, match="api_key") as info:
        secret_value(bad, field="api_key")
    assert info.value.field == "api_key"
    assert info.value.value == REDACTED


def test_scrub_replaces_every_occurrence() -> None:
    secret_value(SECRET, field="token")
    text = f"Authorization: Bearer {SECRET}; again {SECRET}"
    assert scrub(text) == f"Authorization: Bearer {REDACTED}; again {REDACTED}"
    assert scrub("nothing to hide") == "nothing to hide"


def test_short_values_are_not_registered() -> None:
    register_secret("abc")  # would turn every "abc" in every log line into <redacted>
    assert scrub("abcdef") == "abcdef"


def test_redact_headers() -> None:
    secret_value(SECRET, field="token")
    headers = {
        "Authorization": "Bearer x",
        "ApiIntegrationCode": "code",
        "Secret": "s",
        "UserName": "u@example.com",
        "api_key": "k",
        "Cookie": "c",
        "Content-Type": "application/json",
        "X-Echo": f"token={SECRET}",
    }
    redacted = redact_headers(headers)
    for name in ("Authorization", "ApiIntegrationCode", "Secret", "UserName", "api_key", "Cookie"):
        assert redacted[name] == REDACTED
    assert redacted["Content-Type"] == "application/json"
    assert redacted["X-Echo"] == f"token={REDACTED}"


def test_the_logger_scrubs_messages_and_arguments(caplog: Any) -> None:
    secret_value(SECRET, field="token")
    caplog.set_level(logging.DEBUG, logger="billing_milestones")
    logger.debug("header %s", {"Authorization": f"Bearer {SECRET}"})
    logger.info(f"inline {SECRET}")
    logger.warning("clean %d", 5)
    assert [r.getMessage() for r in caplog.records] == [
        f"header {{'Authorization': 'Bearer {REDACTED}'}}",
        f"inline {REDACTED}",
        "clean 5",
    ]
    assert SECRET not in caplog.text
    assert logger.name == "billing_milestones"


def test_log_level_from_the_environment_prints_scrubbed_lines(capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from billing_milestones._http._redact import configure_from_env, logger, register_secret

    assert configure_from_env({}) is None
    assert configure_from_env({"BILLING_MILESTONES_LOG": "loud"}) is None
    handler = configure_from_env({"BILLING_MILESTONES_LOG": "debug"})
    assert handler is not None
    try:
        register_secret("tok-very-secret-123")
        logger.debug("sending with tok-very-secret-123")
        err = capsys.readouterr().err
        assert "sending with <redacted>" in err and "tok-very-secret-123" not in err
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
