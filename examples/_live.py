"""Real-credential plumbing shared by the example scripts' ``--live`` mode (not an example itself).

Secrets come from the environment only:

    KANTATA_TOKEN              Kantata OAuth bearer token
    KANTATA_BASE_URL           optional, default https://api.mavenlink.com/api/v1
    AUTOTASK_USERNAME          API user (an API-only resource)
    AUTOTASK_SECRET            the API user's secret
    AUTOTASK_INTEGRATION_CODE  the API tracking identifier
    AUTOTASK_CURRENCY          the contracts' billing currency, e.g. USD (Autotask amounts carry none)
    AUTOTASK_BASE_URL          optional; without it the zone is discovered from the username
    CRMCOM_API_KEY             crm.com secret API key
    CRMCOM_BASE_URL            optional, default crm.com's sandbox host (https://sandboxapi.crm.com); set
                               your tenant's host for production

``milestones sandbox serve`` prints values for all of these that point at the local emulators, which is a
safe way to try ``--live`` without an account.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any, NoReturn

from billing_milestones import AutotaskClient, CrmComClient, KantataClient, OrderDraft, Platform, errors

__all__ = [
    "DEFAULT_LINKS",
    "add_common_arguments",
    "fail",
    "live_clients",
    "load_draft",
    "parse_date",
    "parse_dates",
    "parse_pairs",
]

#: Where ``--live`` keeps the link store unless ``--links`` says otherwise (the CLI's default name too).
DEFAULT_LINKS = Path("milestones-links.sqlite3")

#: What each platform needs from the environment: (variable, required, what it is).
ENVIRONMENT: Mapping[Platform, tuple[tuple[str, bool, str], ...]] = {
    Platform.KANTATA: (
        ("KANTATA_TOKEN", True, "a Kantata OAuth bearer token"),
        ("KANTATA_BASE_URL", False, "the API root"),
    ),
    Platform.AUTOTASK: (
        ("AUTOTASK_USERNAME", True, "the API user"),
        ("AUTOTASK_SECRET", True, "the API user's secret"),
        ("AUTOTASK_INTEGRATION_CODE", True, "the API tracking identifier"),
        ("AUTOTASK_CURRENCY", True, "the contracts' currency, e.g. USD"),
        ("AUTOTASK_BASE_URL", False, "the zone's API root"),
    ),
    Platform.CRMCOM: (
        ("CRMCOM_API_KEY", True, "a crm.com secret API key"),
        ("CRMCOM_BASE_URL", False, "the API root"),
    ),
}


def fail(message: str) -> NoReturn:
    """Bad usage or a missing setting: say so on stderr and exit 2 (0 and 1 mean the sync ran)."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _settings(platform: Platform, environ: Mapping[str, str]) -> dict[str, str]:
    missing = [
        f"{name} ({what})" for name, required, what in ENVIRONMENT[platform] if required and not environ.get(name)
    ]
    if missing:
        fail(f"--live on {platform.value} needs in the environment: {', '.join(missing)}")
    return {name: environ[name] for name, _, _ in ENVIRONMENT[platform] if environ.get(name)}


def live_clients(
    platforms: Iterable[Platform], stack: ExitStack, environ: Mapping[str, str] | None = None
) -> dict[Platform, Any]:
    """Clients for ``platforms`` on the credentials in the environment, closed when ``stack`` closes."""
    env = os.environ if environ is None else environ
    clients: dict[Platform, Any] = {}
    for platform in platforms:
        s = _settings(platform, env)
        if platform is Platform.KANTATA:
            kantata_kwargs: dict[str, Any] = {"base_url": s["KANTATA_BASE_URL"]} if "KANTATA_BASE_URL" in s else {}
            clients[platform] = stack.enter_context(KantataClient(s["KANTATA_TOKEN"], **kantata_kwargs))
        elif platform is Platform.AUTOTASK:
            clients[platform] = stack.enter_context(
                AutotaskClient(
                    s["AUTOTASK_USERNAME"],
                    s["AUTOTASK_SECRET"],
                    s["AUTOTASK_INTEGRATION_CODE"],
                    currency=s["AUTOTASK_CURRENCY"],
                    base_url=s.get("AUTOTASK_BASE_URL"),
                )
            )
        else:
            crm_kwargs: dict[str, Any] = {"base_url": s["CRMCOM_BASE_URL"]} if "CRMCOM_BASE_URL" in s else {}
            clients[platform] = stack.enter_context(CrmComClient(s["CRMCOM_API_KEY"], **crm_kwargs))
    return clients


def load_draft(path: Path) -> OrderDraft:
    """A crm.com order draft (the body of an order estimate) from a JSON file.

    crm.com milestones live on an order estimate, so the "container" of a crm.com side is a draft: account,
    items, queue. Put the ``estimation_id`` the script prints into the file after the first run, so later
    runs reopen the same estimate and the link store recognises it.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"--draft {path}: {exc}")
    try:
        return OrderDraft.model_validate(data)
    except (errors.ValidationError, ValueError) as exc:
        fail(f"--draft {path}: {exc}")


def parse_pairs(items: Iterable[str], option: str) -> dict[str, str]:
    """``["A=B", ...]`` -> ``{"A": "B"}``, e.g. crm.com stage id = Kantata story id."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            fail(f"{option} {item!r}: expected KEY=VALUE")
        out[key] = value
    return out


def parse_dates(items: Iterable[str], option: str) -> dict[str, dt.date]:
    """``["5004=2026-03-31", ...]`` -> ``{"5004": date(2026, 3, 31)}``."""
    return {key: parse_date(value, option) for key, value in parse_pairs(items, option).items()}


def parse_date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r}: expected a date as YYYY-MM-DD")


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """``--live`` and ``--links``, the same in every script."""
    parser.add_argument(
        "--live",
        action="store_true",
        help="use real credentials from the environment instead of the sandbox (see the top of the file)",
    )
    parser.add_argument(
        "--links",
        type=Path,
        default=None,
        help=f"link store file (default: a temporary file on the sandbox, ./{DEFAULT_LINKS} with --live)",
    )
