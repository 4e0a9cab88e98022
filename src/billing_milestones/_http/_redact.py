"""Keep secrets out of logs, reprs and exception text."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from typing import Any, Final

from pydantic import SecretStr

__all__ = [
    "CHILD_LOGGERS",
    "LOG_ENV",
    "REDACTED",
    "SENSITIVE_HEADERS",
    "SENSITIVE_KEYS",
    "configure_from_env",
    "logger",
    "redact_headers",
    "register_secret",
    "scrub",
    "scrub_data",
    "scrub_logger",
    "secret_value",
]

REDACTED: Final = "<redacted>"

#: Header names whose values are credentials on one of our platforms (compared case-insensitively).
SENSITIVE_HEADERS: Final = frozenset(
    {
        "authorization",
        "api_key",
        "api-key",
        "secret",
        "apiintegrationcode",
        "username",
        "cookie",
        "set-cookie",
    }
)

logger: Final = logging.getLogger("billing_milestones")

_secrets: set[str] = set()
_lock = threading.Lock()


def secret_value(value: str | SecretStr, *, field: str) -> SecretStr:
    """Accept str or SecretStr; remember the value so the log filter can scrub it anywhere."""
    from ..errors import ValidationError

    secret = value if isinstance(value, SecretStr) else SecretStr(value) if isinstance(value, str) else None
    if secret is None or not secret.get_secret_value().strip():
        # A blank secret (" ", a stray newline from a secrets file read whole) can only fail at the server.
        raise ValidationError(f"{field}: expected a non-blank str or SecretStr", field=field, value=REDACTED)
    register_secret(secret.get_secret_value())
    return secret


def register_secret(value: str) -> None:
    if len(value) >= 4:
        with _lock:
            _secrets.add(value)


def scrub(text: str) -> str:
    """Replace every registered secret in ``text``."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


#: Body keys whose values are credentials on one of our platforms (crm.com login and refresh bodies, tokens
#: echoed back), compared case-insensitively.
SENSITIVE_KEYS: Final = frozenset(
    {"password", "api_key", "public_key", "secret", "token", "access_token", "refresh_token", "integration_code"}
)


def scrub_data(value: Any) -> Any:
    """A copy of JSON-like data with credential keys masked and registered secrets scrubbed from every
    string: for error bodies (a server may echo a credential back) and for reprs of request bodies."""
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if isinstance(k, str) and k.lower() in SENSITIVE_KEYS else scrub_data(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub_data(v) for v in value]
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, SecretStr):
        return REDACTED
    return value


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: (REDACTED if k.lower() in SENSITIVE_HEADERS else scrub(v)) for k, v in headers.items()}


class _ScrubFilter(logging.Filter):
    """Defence in depth: even a careless log call on our logger cannot print a registered secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


#: The package's loggers below its own. A logger's filters see only what is logged on it, not what its
#: children pass up to its handlers, so each of these gets the filter too (tests/_http/test_redact_loggers.py
#: fails on a logger of the package that has none).
CHILD_LOGGERS: Final = (
    "billing_milestones.sync",
    "billing_milestones.workers",
    "billing_milestones.workers._budgets",
    "billing_milestones.workers._wakeups",
    "billing_milestones.metrics",
)


def scrub_logger(target: logging.Logger) -> logging.Logger:
    """``target`` with the scrub filter on it (once, however often asked)."""
    if not any(isinstance(f, _ScrubFilter) for f in target.filters):
        target.addFilter(_ScrubFilter())
    return target


scrub_logger(logger)
for _name in CHILD_LOGGERS:
    scrub_logger(logging.getLogger(_name))
logger.addHandler(logging.NullHandler())

#: ``BILLING_MILESTONES_LOG=debug`` (or ``info``) prints our log lines to stderr without any setup.
LOG_ENV: Final = "BILLING_MILESTONES_LOG"


def configure_from_env(environ: Mapping[str, str] | None = None) -> logging.Handler | None:
    """Attach a stderr handler when the environment asks for one; returns it (None when not asked)."""
    level = (os.environ if environ is None else environ).get(LOG_ENV, "").strip().upper()
    if level not in ("DEBUG", "INFO"):
        return None
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    return handler


configure_from_env()
