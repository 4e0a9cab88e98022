"""``milestones plan`` and ``milestones sync``: plan a configured pair, then (for sync) apply it under its lease."""

from __future__ import annotations

import dataclasses
import json
from contextlib import ExitStack
from typing import Annotated, Any

import typer

from .._render import Tally, apply_with_progress, show_plan, show_result
from ..sync import ConflictPolicy, LinkStore, SyncPlan, apply_plan, load_sides, plan_sync, settle_pending
from ..sync.actions import PLAN_SCHEMA_VERSION
from ..sync.config import Settings
from ..sync.connect import expect_first_sync, remember_draft, resolve_container
from ..sync.runs import leased_run, record_no_writes
from ._common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    ConfigOpt,
    FixDuplicatesOpt,
    JsonOpt,
    MassDeleteOpt,
    app,
    fail,
    guard,
    interrupted,
    load_config,
    stdout_console,
)
from ._shared_limits import run_connector

__all__ = ["plan_command", "sync_command"]


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
    listings are read and held until ``stack`` closes, so a second run waits or exits 3 writing nothing;
    then a stopped run's pending writes are given the pair's ``write_settle`` to land before the target is
    listed (PendingWritesError, exit 3, when that is more than a window away)."""
    spec = settings.pair(name)
    connector = run_connector(settings, stack)  # with a PostgreSQL store, the limits the workers share
    source_client = stack.enter_context(connector(spec.source[0], settings))
    target_client = (
        source_client if spec.target[0] is spec.source[0] else stack.enter_context(connector(spec.target[0], settings))
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
    if lease is not None:
        stack.enter_context(leased_run(store, pair.identity, lease))  # the run's row, before it lists
        settle_pending(store, pair.id, window=spec.write_settle, lease=lease)
    clients = {spec.source[0]: source_client, spec.target[0]: target_client}
    expect_first_sync(pair, clients, store)
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
    with guard(as_json), ExitStack() as stack:
        plan, _ = _plan_for(load_config(config), pair, stack, policy, overrides)
    if as_json:
        typer.echo(plan.to_json_text())
    else:
        show_plan(plan, stdout_console())
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
    console = stdout_console()
    if as_json and not (yes or dry_run):
        raise fail("--json cannot ask for confirmation: add --yes to apply, or --dry-run", EXIT_USAGE, True)
    overrides = {"fix_duplicates": fix_duplicates, "allow_mass_delete": allow_mass_delete}
    with guard(as_json), ExitStack() as stack:
        settings = load_config(config)
        lease_wait = None if dry_run else (wait if wait is not None else settings.pair(pair).lease_wait)
        plan, (clients, store, lease) = _plan_for(settings, pair, stack, policy, overrides, lease_wait=lease_wait)
        if not as_json:
            show_plan(plan, console)
        result = None
        if not dry_run and plan.has_changes:
            if not yes and not _confirmed():
                record_no_writes(store, plan, lease, error="not applied: the plan was not confirmed")
                resume = f"rerun `milestones sync {pair}` and answer y (or pass --yes) to apply"
                raise interrupted("not applied", writes=0, failed=0, as_json=as_json, resume=resume)
            tally = Tally()
            try:
                settle = settings.pair(pair).write_settle
                result = apply_with_progress(
                    plan, clients, store, console, quiet=as_json, lease=lease, tally=tally, write_settle=settle
                )
            except KeyboardInterrupt:
                resume = f"each is recorded; rerun `milestones sync {pair}` to resume"
                raise interrupted(
                    "interrupted", writes=tally.writes, failed=tally.failed, as_json=as_json, resume=resume
                ) from None
            target, name = settings.pair(pair).target
            remember_draft(clients[target], target, name, plan.pair.target_container, store)
        elif not dry_run:
            # Nothing to write: applied all the same, as a worker's run is, for the run's row in the history and
            # the links of unchanged milestones whose fingerprints moved (a source edit the target does not
            # hold, such as an Autotask description Kantata drops). Without that refresh the next edit on the
            # target read as both sides changed: a conflict, where a worker's run of the pair restores the source.
            apply_plan(plan, clients, store, lease=lease, write_settle=settings.pair(pair).write_settle)
    # One shape whatever happened: ok, the plan, and the result when something was applied.
    ok = result.ok if result is not None else not plan.findings
    if as_json:
        payload = {
            "schema_version": PLAN_SCHEMA_VERSION,
            "ok": ok,
            "dry_run": dry_run,
            "plan": plan.to_json(),
            "result": result.to_json() if result else None,
        }
        typer.echo(json.dumps(payload, indent=2))
    elif result is not None:
        show_result(result, console)
    raise typer.Exit(EXIT_OK if ok else EXIT_PROBLEMS)


def _confirmed() -> bool:
    """The person's yes; no and an end of input (a closed pipe, Ctrl-D) both mean no."""
    try:
        return typer.confirm("Apply this plan?", default=False)
    except typer.Abort:
        return False
