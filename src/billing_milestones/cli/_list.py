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
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the milestones of one container in the common model."""
    fmt = OutputFormat.JSON if as_json else output
    with guard(as_json):
        settings = load_config(config)
        with ExitStack() as stack:
            client = stack.enter_context(connect(platform, settings))
            named = spec_for(platform).named_containers  # crm.com drafts remember their ids in the store
            store = stack.enter_context(LinkStore(settings.links)) if named else None
            container_id = resolve_container(client, platform, container, settings, store)
            milestones = list(client.milestones.list(container_id))
    render_milestones(milestones, fmt, stdout_console())


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
