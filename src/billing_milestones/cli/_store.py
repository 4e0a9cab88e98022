"""``milestones runs`` (the run history) and ``milestones links migrate`` (copy a store to another backend)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ..errors import ConfigError
from ..sync import LinkStore, RunRecord, prune_runs
from ..sync.config import Settings, parse_endpoint
from ..sync.store import parse_target
from ..sync.store._postgres import has_tables
from ..sync.store.migrate import copy_store
from ._common import ConfigOpt, JsonOpt, app, guard, load_config, stdout_console

__all__ = ["migrate_command", "missing_store", "prune_runs_command", "runs_command"]

links_app = typer.Typer(help="The link store: copy it to another backend.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(links_app, name="links")


@app.command("runs")
def runs_command(
    pair: Annotated[
        str | None,
        typer.Argument(help="Only this pair's runs: its name in the config, or as listed (default: every pair)"),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=10_000, help="How many runs, newest first.")] = 20,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the run history: who ran each pair, when, what it wrote, and whether it ended well."""
    with guard(as_json):
        settings = load_config(config)
        identity = _identity(settings, pair) if pair is not None else None
        missing = missing_store(settings)
        if missing is not None:  # opening would make an empty store there, where a mistyped path looked like no runs
            runs: list[RunRecord] = []
        else:
            with LinkStore(settings.links) as store:
                runs = store.runs(identity, limit=limit)
    if as_json:
        typer.echo(json.dumps([run.to_json() for run in runs], indent=2))
        return
    if missing is not None:
        stdout_console().print(f"No runs recorded yet: there is no link store at {escape(missing)}.")
        return
    stdout_console().print(_history(runs), highlight=False)


@app.command("prune-runs")
def prune_runs_command(
    older_than: Annotated[
        float, typer.Option("--older-than", min=0, help="Days: forget finished runs that ended longer ago.")
    ],
    pair: Annotated[
        str | None,
        typer.Argument(help="Only this pair's runs: its name in the config, or as listed (default: every pair)"),
    ] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Forget old run history (it grows by a row a run, and nothing else deletes it). Each pair's newest run is
    kept; an open run older than that of a pair not run since is closed as lost; links, intents and leases are
    never touched."""
    with guard(as_json):
        settings = load_config(config)
        identity = _identity(settings, pair) if pair is not None else None
        missing = missing_store(settings)
        if missing is not None:  # not made empty to be pruned
            raise ConfigError(f"links: there is no link store at {missing}", key="links")
        with LinkStore(settings.links) as store:
            done = prune_runs(store, older_than_days=older_than, pair_id=identity)
    if as_json:
        typer.echo(json.dumps({"ok": True, "pruned": done.deleted, "closed": done.closed}))
        return
    line = f"{done.deleted} run{'' if done.deleted == 1 else 's'} forgotten (ended over {older_than:g} days ago)"
    if done.closed:
        line += f"; {done.closed} left open by a run lost before then closed as lost (their pair not run since)"
    stdout_console().print(f"{line}.")


def missing_store(settings: Settings) -> str | None:
    """The configured store as it may be shown when there is none there (opening it would make one): no
    SQLite file at its path, or no link store's tables in its PostgreSQL database and schema."""
    target = parse_target(settings.links)
    if target.kind == "postgresql":
        return None if has_tables(target.location) else target.display
    missing = target.location != ":memory:" and not Path(target.location).exists()
    return target.location if missing else None


def _identity(settings: Settings, pair: str) -> str:
    """The identity ``pair``'s runs are kept under: a configured pair's (its containers by their names in the
    config, which the config alone gives: no platform is asked), or ``pair`` itself when it is one, as
    ``milestones runs`` prints it (``autotask:1->kantata:2``): the runs of a pair taken out of the config are
    still its history. Anything else is an error, not an empty history (a misspelt name)."""
    if pair in settings.pairs or "->" not in pair:
        try:
            spec = settings.pair(pair)
        except ConfigError as exc:
            hint = "; a pair taken out of the config: give it as the runs list it (source->target)"
            raise ConfigError(exc.message + hint, key=exc.key) from None
        return spec.pair(source_container=spec.source[1], target_container=spec.target[1]).identity
    source, _, target = pair.partition("->")
    for key, endpoint in (("source", source), ("target", target)):
        parse_endpoint(endpoint, key=f"runs: the pair's {key}")  # a platform:container each side
    return pair


def _history(runs: list[RunRecord]) -> str:
    """One block of lines a run, newest first. Not a table: a run's pair, times and worker (``host:pid:run``)
    alone are about 110 characters, so a table of them cut every one to a few at 80 columns ("auto...").
    Each line here fits 80 columns but the worker's and the result's, which wrap whole."""
    if not runs:
        return "No runs recorded yet."
    return "\n\n".join(_block(run) for run in runs)


def _block(run: RunRecord) -> str:
    counts = ", ".join(
        f"{name} {n}"
        for name, n in zip(
            ("created", "updated", "deleted", "adopted", "conflicts"),
            (run.created, run.updated, run.deleted, run.adopted, run.conflicts),
            strict=True,
        )
    )
    finished = escape(run.finished_at) if not run.open else "(no end recorded)"
    return (
        f"[bold]{escape(run.pair_id)}[/]  {_result(run)}\n"
        f"  {escape(run.started_at)} -> {finished}\n"
        f"  by {escape(run.worker)}\n"
        f"  {counts}"
    )


def _result(run: RunRecord) -> str:
    """An open row (no end recorded yet) says so, rather than "failed": its run may still be going."""
    if run.open:
        return "[yellow]running[/] (or lost before recording its end; the pair's next run closes it)"
    return "[green]ok[/]" if run.ok else f"[red]failed[/]: {escape(run.error or '')}"


@links_app.command("migrate")
def migrate_command(
    source: Annotated[str, typer.Option("--from", help="The store to copy: a path, sqlite:///path or postgresql://")],
    destination: Annotated[str, typer.Option("--to", help="An empty store to copy into (created if missing)")],
    as_json: JsonOpt = False,
) -> None:
    """Copy every link, intent, lease, pair version, name and run into an empty store; the source is only read."""
    with guard(as_json):
        copied = copy_store(source, destination)
    if as_json:
        typer.echo(json.dumps({"ok": True, "copied": copied}))
        return
    rows = ", ".join(f"{n} {table}" for table, n in copied.items())
    stdout_console().print(f"Copied {rows}.", highlight=False)
