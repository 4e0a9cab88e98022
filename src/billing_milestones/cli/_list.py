"""``milestones list``: one container's milestones in the common model, as a table, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
import sys
from contextlib import ExitStack
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from .._platforms import spec_for
from ..model import Milestone, Platform
from ..sync import LinkStore
from ..sync.connect import connect, resolve_container
from ._common import ConfigOpt, JsonOpt, OutputFormat, app, guard, load_config, stdout_console

__all__ = ["list_command", "render_milestones"]


@app.command("list")
def list_command(
    platform: Annotated[Platform, typer.Argument(help="crmcom, autotask or kantata", case_sensitive=False)],
    container: Annotated[str, typer.Argument(help="Workspace id, contract id, or crm.com draft name")],
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="table, json or csv")] = OutputFormat.TABLE,
    wide: Annotated[
        bool, typer.Option("--wide", "-w", metavar="", help="Every column (trigger, percentage, sync key...).")
    ] = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the milestones of one container in the common model.

    The table fits the terminal: keys, amounts and dates are never cut or folded, titles wrap; --wide shows
    every column at its full width, --json or --format csv every field."""
    fmt = OutputFormat.JSON if as_json else output
    with guard(as_json):
        settings = load_config(config)
        with ExitStack() as stack:
            client = stack.enter_context(connect(platform, settings))
            named = spec_for(platform).named_containers  # crm.com drafts remember their ids in the store
            store = stack.enter_context(LinkStore(settings.links)) if named else None
            container_id = resolve_container(client, platform, container, settings, store)
            milestones = list(client.milestones.list(container_id))
    render_milestones(milestones, fmt, stdout_console(), wide=wide)


#: The table's columns without --wide; the rest are one --wide, --json or --format csv away.
_NARROW = ("key", "title", "amount", "due", "status")
#: Columns whose values a person copies or compares: never cut, never folded.
_WHOLE = frozenset({"key", "amount", "currency", "percentage", "due", "status", "locked", "sync_key", "trigger"})


def render_milestones(milestones: list[Milestone], fmt: OutputFormat, console: Console, *, wide: bool = False) -> None:
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
        _print_table(rows, console, wide=wide)


def _print_table(rows: list[dict[str, Any]], console: Console, *, wide: bool) -> None:
    """Rich shrinks every column to fit the terminal, cutting a date to ``2027...``; here only the title
    gives way (it wraps), and a value column is as wide as its longest value. --wide lets the table run
    past the terminal's edge instead, as wide as its content."""
    if wide:
        names = _row_fields()
        cells = [{k: _text(v) for k, v in row.items()} for row in rows]
    else:
        names = _NARROW
        cells = [{**{k: _text(row[k]) for k in names}, "amount": _amount(row)} for row in rows]
    table = Table(title=f"{len(rows)} milestones")
    for name in names:
        if name in _WHOLE:
            width = max([len(name), *(len(c[name]) for c in cells)])
            table.add_column(name, no_wrap=True, overflow="ignore", min_width=width)
        else:
            table.add_column(name, overflow="fold", ratio=1, min_width=8)
    for c in cells:
        table.add_row(*(escape(c[name]) for name in names))
    if wide:
        natural = Measurement.get(console, console.options.update_width(10_000), table).maximum
        console = Console(file=console.file, width=max(console.width, natural), soft_wrap=False)
    console.print(table)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _amount(row: dict[str, Any]) -> str:
    return " ".join(str(row[k]) for k in ("amount", "currency") if row[k] is not None)


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
