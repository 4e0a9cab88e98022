"""Every logger the package makes scrubs registered secrets from what is logged on it: a logger's filters see
only its own records, not those its children pass up to its handlers, so the package logger's filter alone
let ``billing_milestones.workers`` or ``.metrics`` print a secret."""

from __future__ import annotations

import importlib
import logging
import pkgutil

import pytest

import billing_milestones
from billing_milestones._http._redact import CHILD_LOGGERS, _ScrubFilter, register_secret


def _package_loggers() -> list[str]:
    """The package's loggers once every module of it that imports here has been imported."""
    for module in pkgutil.walk_packages(billing_milestones.__path__, "billing_milestones."):
        if module.name.endswith(".__main__"):  # runs the CLI when imported
            continue
        try:
            importlib.import_module(module.name)
        except ImportError:  # an extra not installed: its loggers cannot exist either
            continue
    return sorted(
        name
        for name, made in logging.Logger.manager.loggerDict.items()
        if isinstance(made, logging.Logger) and name.split(".")[0] == "billing_milestones"
    )


def test_every_logger_of_the_package_has_the_scrub_filter() -> None:
    names = _package_loggers()
    assert set(CHILD_LOGGERS) <= set(names)
    unscrubbed = [n for n in names if not any(isinstance(f, _ScrubFilter) for f in logging.getLogger(n).filters)]
    assert unscrubbed == []


@pytest.mark.parametrize("name", ["billing_milestones", *CHILD_LOGGERS])
def test_a_secret_logged_on_any_of_them_reaches_no_handler(name: str, caplog: pytest.LogCaptureFixture) -> None:
    register_secret("s3cret-token-for-the-loggers")
    with caplog.at_level(logging.INFO, logger=name):
        logging.getLogger(name).warning("request failed: token %s", "s3cret-token-for-the-loggers")
    assert caplog.records and "s3cret-token-for-the-loggers" not in caplog.text
