"""``milestones check``: one cheap authenticated request per configured platform, before a first sync.

A wrong token or a missing permission otherwise shows up halfway through a sync, as a platform error on the
first read. Here each platform gets the least a sync needs (Kantata: read a workspace; Autotask: the zone and
its request budget; crm.com: estimate the configured draft), and the line says what works, the zone, the rate
budget left and, when it fails, what to fix.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from .. import errors
from ..model import Platform
from ..sync import LinkStore
from ..sync.config import SECRETS, Settings
from ..sync.connect import connect, resolve_container
from ._common import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, ConfigOpt, JsonOpt, app, fail, guard, load_config
from ._common import stdout_console as _console

__all__ = ["PlatformCheck", "check_command"]


@dataclass(frozen=True)
class PlatformCheck:
    """What one platform's check found: ``checked`` says what worked, ``fix`` what to do when it did not."""

    platform: str
    ok: bool
    checked: str = ""
    zone: str | None = None
    rate_budget: str | None = None
    fix: str | None = None


@app.command("check")
def check_command(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Check every configured platform with one cheap authenticated request; exit 0 only when all pass."""
    with guard(as_json):
        settings = load_config(config)
        configured = [p for p in Platform if not settings.section(p).missing()]
        if not configured:
            needed = "; ".join(m for p in Platform for m in settings.section(p).missing())
            raise fail(f"nothing to check: no platform is configured; set {needed}", EXIT_USAGE, as_json)
        results = [_check(platform, settings) for platform in configured]
    ok = all(r.ok for r in results)
    if as_json:
        typer.echo(json.dumps({"ok": ok, "platforms": [asdict(r) for r in results]}, indent=2))
    else:
        console = _console()
        for r in results:
            status = "[green]ok[/]  " if r.ok else "[bold red]FAIL[/]"
            facts = "; ".join(x for x in (r.checked, r.zone, r.rate_budget) if x)
            line = f"{r.platform:<9} {status} {escape(facts)}"
            console.print(
                line + (f"\n          fix: {escape(r.fix)}" if r.fix else ""), highlight=False, soft_wrap=True
            )
    raise typer.Exit(EXIT_OK if ok else EXIT_PROBLEMS)


def _check(platform: Platform, settings: Settings) -> PlatformCheck:
    probe = _PROBES[platform]
    try:
        with connect(platform, settings) as client:
            return probe(client, settings)
    except errors.AuthenticationError as exc:
        return PlatformCheck(platform.value, False, fix=f"{_secrets(platform)} refused ({exc.message}): set valid ones")
    except errors.PermissionDeniedError as exc:
        return PlatformCheck(platform.value, False, fix=f"the credentials lack a permission ({exc.message})")
    except errors.APIConnectionError as exc:
        return PlatformCheck(
            platform.value, False, fix=f"cannot reach the API ({exc}): check {platform.value}.base_url"
        )
    except errors.BillingMilestonesError as exc:
        return PlatformCheck(platform.value, False, fix=str(exc))


def _secrets(platform: Platform) -> str:
    return " / ".join(SECRETS[platform.value].values())


def _containers(settings: Settings, platform: Platform) -> list[str]:
    ends = [end for pair in settings.pairs.values() for end in (pair.source, pair.target)]
    return [container for p, container in ends if p is platform]


def _kantata(client: Any, settings: Settings) -> PlatformCheck:
    budget = "rate budget: not reported by Kantata"
    workspaces = _containers(settings, Platform.KANTATA)
    if not workspaces:
        next(iter(client.billing_milestones.list()), None)  # the first page only
        return PlatformCheck("kantata", True, "token accepted (read billing milestones)", rate_budget=budget)
    workspace = client.workspaces.get(workspaces[0])
    checked = f"workspace {workspace.id} {workspace.title or ''!r} readable, currency {workspace.currency or '?'}"
    return PlatformCheck("kantata", True, checked, rate_budget=budget)


def _autotask(client: Any, settings: Settings) -> PlatformCheck:
    limits = client.threshold_information()
    left = limits.external_request_threshold - limits.current_timeframe_request_count
    budget = (
        f"{left} of {limits.external_request_threshold} requests left in this "
        f"{limits.request_threshold_timeframe}-minute window"
    )
    configured = settings.autotask.base_url
    if configured:  # a sandbox or a proxy: the zone is what the config says, discovery is never asked
        where = f"zone: the configured base_url {configured}"
    else:
        zone = client.zone_information()
        where = f"zone {zone.zone_name or '?'} ({zone.url})"
    return PlatformCheck("autotask", True, "credentials accepted", zone=where, rate_budget=budget)


def _crmcom(client: Any, settings: Settings) -> PlatformCheck:
    drafts = sorted(settings.crmcom.drafts)
    if not drafts:
        fix = "define an order draft as [crmcom.drafts.NAME] in the config: the check estimates it"
        return PlatformCheck("crmcom", False, "no draft to estimate", fix=fix)
    name = drafts[0]
    # Reuse the estimation a sync remembered, if the store exists; never create a store just to check.
    kept = settings.links.is_file() if isinstance(settings.links, Path) else True  # a database URL exists already
    store = LinkStore(settings.links) if kept else None
    try:
        estimation = resolve_container(client, Platform.CRMCOM, name, settings, store)
    finally:
        if store is not None:
            store.close()
    budget = "rate budget: not reported by crm.com"
    return PlatformCheck("crmcom", True, f"draft {name!r} estimated (estimation {estimation})", rate_budget=budget)


_PROBES: dict[Platform, Callable[[Any, Settings], PlatformCheck]] = {
    Platform.KANTATA: _kantata,
    Platform.AUTOTASK: _autotask,
    Platform.CRMCOM: _crmcom,
}
