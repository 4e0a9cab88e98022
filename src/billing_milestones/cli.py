"""The ``milestones`` command: list, plan, sync, sandbox serve and demo.

Exit codes: 0 done; 1 the sync found problems (conflicts, duplicates, failed writes, a listing that cannot be
trusted, a platform error); 2 bad usage or configuration; 3 another run holds the pair (nothing written).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import errors
from ._platforms import spec_for
from ._render import apply_with_progress, show_plan, show_result
from .model import Milestone, Platform
from .sync import ConflictPolicy, LinkStore, SyncPlan, load_sides, plan_sync
from .sync.config import Settings, load_settings
from .sync.connect import connect, remember_draft, resolve_container

__all__ = ["app", "main"]

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3

app = typer.Typer(
    name="milestones",
    help=(
        "Billing milestones on crm.com, Autotask PSA and Kantata OX: list, plan and sync them.\n\n"
        "Exit codes: 0 done; 1 problems found (conflicts, duplicates, failed writes, untrustworthy listings); "
        "2 bad usage or configuration; 3 another run holds the pair, nothing was written."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
sandbox_app = typer.Typer(help="Local emulators of the three APIs.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="TOML config file (default: $MILESTONES_CONFIG, ./milestones.toml)"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
FixDuplicatesOpt = Annotated[
    bool,
    typer.Option("--fix-duplicates", help="Remove extra target copies of a milestone where the platform can delete."),
]
MassDeleteOpt = Annotated[
    bool,
    typer.Option("--allow-mass-delete", help="Allow deleting more than the pair's max_delete_share of its links."),
]


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def _console() -> Console:
    return Console(stderr=False, soft_wrap=False)


def _fail(message: str, code: int, as_json: bool) -> typer.Exit:
    if as_json:
        typer.echo(json.dumps({"ok": False, "error": message}))
    else:
        Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


@contextmanager
def _guard(as_json: bool) -> Iterator[None]:
    """Map our errors to exit codes: configuration and input problems are 2, platform failures 1."""
    try:
        yield
    except (errors.ConfigError, errors.ValidationError) as exc:
        raise _fail(str(exc), EXIT_USAGE, as_json) from None
    except errors.PairBusyError as exc:
        raise _fail(str(exc), EXIT_BUSY, as_json) from None
    except errors.BillingMilestonesError as exc:
        raise _fail(str(exc), EXIT_PROBLEMS, as_json) from None


def _settings(config: Path | None) -> Settings:
    return load_settings(config)


# -- list ---------------------------------------------------------------------------------------------
@app.command("list")
def list_command(
    platform: Annotated[Platform, typer.Argument(help="crmcom, autotask or kantata", case_sensitive=False)],
    container: Annotated[str, typer.Argument(help="Workspace id, contract id, or crm.com draft name")],
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="table, json or csv")] = OutputFormat.TABLE,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the milestones of one container in the common model."""
    fmt = OutputFormat.JSON if as_json else output
    with _guard(as_json):
        settings = _settings(config)
        with ExitStack() as stack:
            client = stack.enter_context(connect(platform, settings))
            named = spec_for(platform).named_containers  # crm.com drafts remember their ids in the store
            store = stack.enter_context(LinkStore(settings.links)) if named else None
            container_id = resolve_container(client, platform, container, settings, store)
            milestones = list(client.milestones.list(container_id))
    render_milestones(milestones, fmt, _console())


def render_milestones(milestones: list[Milestone], fmt: OutputFormat, console: Console) -> None:
    rows = [_row(m) for m in milestones]
    if fmt is OutputFormat.JSON:
        typer.echo(json.dumps(rows, indent=2))
    elif fmt is OutputFormat.CSV:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(_row_fields()))
        writer.writeheader()
        writer.writerows(rows)
        sys.stdout.write(buffer.getvalue())
    else:
        table = Table(title=f"{len(rows)} milestones")
        for name in _row_fields():
            table.add_column(name)
        for row in rows:
            table.add_row(*(escape(str(v)) if v is not None else "" for v in row.values()))
        console.print(table)


def _row_fields() -> tuple[str, ...]:
    return ("key", "title", "amount", "currency", "percentage", "due", "trigger", "status", "locked", "sync_key")


def _row(m: Milestone) -> dict[str, Any]:
    return {
        "key": str(m.key) if m.key else None,
        "title": m.title,
        "amount": str(m.amount.amount) if m.amount else None,
        "currency": m.amount.currency if m.amount else None,
        "percentage": str(m.percentage) if m.percentage is not None else None,
        "due": m.due.isoformat() if m.due else None,
        "trigger": f"{m.trigger.kind.value}:{m.trigger.ref}" if m.trigger.ref else m.trigger.kind.value,
        "status": m.status.value,
        "locked": m.locked,
        "sync_key": m.sync_key,
    }


# -- plan / sync --------------------------------------------------------------------------------------
def _plan_for(
    settings: Settings,
    name: str,
    stack: ExitStack,
    policy: ConflictPolicy | None,
    overrides: dict[str, bool],
    *,
    lease_wait: float | None = None,
) -> tuple[SyncPlan, Any]:
    """Plan one configured pair. With ``lease_wait`` (a write run), the pair's lease is taken before the
    listings are read and held until ``stack`` closes, so a second run waits or exits 3 writing nothing."""
    spec = settings.pair(name)
    source_client = stack.enter_context(connect(spec.source[0], settings))
    target_client = (
        source_client if spec.target[0] is spec.source[0] else stack.enter_context(connect(spec.target[0], settings))
    )
    store = stack.enter_context(LinkStore(settings.links))
    pair = spec.pair(
        source_container=resolve_container(source_client, spec.source[0], spec.source[1], settings, store),
        target_container=resolve_container(target_client, spec.target[0], spec.target[1], settings, store),
    )
    if overrides.get("fix_duplicates"):
        pair = dataclasses.replace(pair, fix_duplicates=True)
    if overrides.get("allow_mass_delete"):
        pair = dataclasses.replace(pair, allow_mass_delete=True)
    lease = stack.enter_context(store.lease(pair.identity, wait=lease_wait)) if lease_wait is not None else None
    clients = {spec.source[0]: source_client, spec.target[0]: target_client}
    source, target = load_sides(pair, clients)
    plan = plan_sync(pair, source, target, store, policy=policy or spec.policy)
    return plan, (clients, store, lease)


@app.command("plan")
def plan_command(
    pair: Annotated[str, typer.Argument(help="A pair name from the config's [pairs] tables")],
    policy: Annotated[ConflictPolicy | None, typer.Option(help="Override the pair's conflict policy")] = None,
    fix_duplicates: FixDuplicatesOpt = False,
    allow_mass_delete: MassDeleteOpt = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show what a sync would do, without writing anything."""
    overrides = {"fix_duplicates": fix_duplicates, "allow_mass_delete": allow_mass_delete}
    with _guard(as_json), ExitStack() as stack:
        plan, _ = _plan_for(_settings(config), pair, stack, policy, overrides)
    if as_json:
        typer.echo(plan.to_json_text())
    else:
        show_plan(plan, _console())
    raise typer.Exit(EXIT_PROBLEMS if plan.findings else EXIT_OK)


@app.command("sync")
def sync_command(
    pair: Annotated[str, typer.Argument(help="A pair name from the config's [pairs] tables")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan and show; write nothing.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")] = False,
    policy: Annotated[ConflictPolicy | None, typer.Option(help="Override the pair's conflict policy")] = None,
    fix_duplicates: FixDuplicatesOpt = False,
    allow_mass_delete: MassDeleteOpt = False,
    wait: Annotated[
        float | None,
        typer.Option(
            "--wait",
            min=0,
            help="Seconds to wait for another run of this pair to finish (default: the pair's lease_wait, 0); "
            "then exit 3 having written nothing.",
        ),
    ] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Plan, then apply: create, update and delete target milestones and record the links.

    One run per pair at a time: a write run holds the pair's lease from before it reads until its last
    write is recorded."""
    console = _console()
    if as_json and not (yes or dry_run):
        raise _fail("--json cannot ask for confirmation: add --yes to apply, or --dry-run", EXIT_USAGE, True)
    overrides = {"fix_duplicates": fix_duplicates, "allow_mass_delete": allow_mass_delete}
    with _guard(as_json), ExitStack() as stack:
        settings = _settings(config)
        lease_wait = None if dry_run else (wait if wait is not None else settings.pair(pair).lease_wait)
        plan, (clients, store, lease) = _plan_for(settings, pair, stack, policy, overrides, lease_wait=lease_wait)
        if not as_json:
            show_plan(plan, console)
        result = None
        if not dry_run and plan.has_changes:
            if not yes and not typer.confirm("Apply this plan?", default=False):
                raise typer.Exit(EXIT_OK)
            result = apply_with_progress(plan, clients, store, console, quiet=as_json, lease=lease)
            target, name = settings.pair(pair).target
            remember_draft(clients[target], target, name, plan.pair.target_container, store)
    # One shape whatever happened: ok, the plan, and the result when something was applied.
    ok = result.ok if result is not None else not plan.findings
    if as_json:
        payload = {"ok": ok, "dry_run": dry_run, "plan": plan.to_json(), "result": result.to_json() if result else None}
        typer.echo(json.dumps(payload, indent=2))
    elif result is not None:
        show_result(result, console)
    raise typer.Exit(EXIT_OK if ok else EXIT_PROBLEMS)


# -- sandbox / demo -----------------------------------------------------------------------------------
@sandbox_app.command("serve")
def sandbox_serve(
    host: Annotated[str, typer.Option(help="Loopback address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0 picks a free one)")] = 8765,
    seed: Annotated[bool, typer.Option("--seed/--empty", help="Seed demo data")] = True,
    as_json: JsonOpt = False,
) -> None:
    """Run all three emulators on one loopback port until interrupted."""
    from .demo import serve_sandboxes

    serve_sandboxes(host, port, seed=seed, console=_console(), as_json=as_json)


@app.command("demo")
def demo_command(as_json: JsonOpt = False) -> None:
    """Seed the sandbox, sync crm.com -> Kantata and Autotask -> Kantata, then show a second run has nothing to do."""
    from .demo import run_demo

    with _guard(as_json):
        code = run_demo(_console(), as_json=as_json)
    raise typer.Exit(code)


def main() -> None:
    app()
