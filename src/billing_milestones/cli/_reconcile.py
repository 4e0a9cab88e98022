"""``milestones reconcile``: compare a configured pair's two containers and report, writing nothing.

Exit codes follow ``diff``: 0 both sides are in step, 1 something differs or is on one side only (or a
platform error), 2 bad usage or configuration.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..model import Milestone
from ..sync import LinkStore, ReconcileReport, ReconcileStatus, reconcile
from ..sync.connect import connect, resolve_container
from ._common import EXIT_OK, EXIT_PROBLEMS, ConfigOpt, JsonOpt, app, guard, load_config, stdout_console
from ._store import missing_store

__all__ = ["reconcile_command", "show_report"]

_STYLES = {
    ReconcileStatus.MATCH: "green",
    ReconcileStatus.DIFFER: "yellow",
    ReconcileStatus.SOURCE_ONLY: "red",
    ReconcileStatus.TARGET_ONLY: "red",
    ReconcileStatus.UNTRANSLATABLE: "bold red",
}


@app.command("reconcile")
def reconcile_command(
    pair: Annotated[str, typer.Argument(help="A pair name from the config's [pairs] tables")],
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Compare both sides of a pair: what matches, what differs (field by field) and what is on one side only.

    Nothing is written to either platform or to the link store's links. Exit 0 when both sides are in step,
    1 when anything differs."""
    with guard(as_json), ExitStack() as stack:
        settings = load_config(config)
        spec = settings.pair(pair)
        source_client = stack.enter_context(connect(spec.source[0], settings))
        target_client = (
            source_client
            if spec.target[0] is spec.source[0]
            else stack.enter_context(connect(spec.target[0], settings))
        )
        # No link store yet means no sync has run: pair by sync key and exact match, and create no file (nor a
        # PostgreSQL store's tables).
        present = missing_store(settings) is None
        store = stack.enter_context(LinkStore(settings.links)) if present else None
        sync_pair = spec.pair(
            source_container=resolve_container(source_client, spec.source[0], spec.source[1], settings, store),
            target_container=resolve_container(target_client, spec.target[0], spec.target[1], settings, store),
        )
        clients = {spec.source[0]: source_client, spec.target[0]: target_client}
        report = reconcile(sync_pair, clients, store if store is not None else ())
    if as_json:
        typer.echo(report.to_json_text())
    else:
        show_report(report, stdout_console())
    raise typer.Exit(EXIT_OK if report.in_step else EXIT_PROBLEMS)


def show_report(report: ReconcileReport, console: Console) -> None:
    """The report as a table (one row per milestone: both amounts and due dates, the reason in full), then
    one line per differing field with both values."""
    table = Table(title=f"Reconcile {report.pair.id}", show_lines=True)
    for column in ("status", "title", "source", "target", "reason"):
        table.add_column(column, overflow="fold")
    for e in report:
        shown = e.desired or e.source
        table.add_row(
            e.status.value,
            escape(e.title),
            escape(_side(shown)),
            escape(_side(e.target)),
            escape(e.reason),
            style=_STYLES[e.status],
        )
    console.print(table)
    # Field differences on lines of their own, so a narrow terminal never folds a value in two.
    for e in report:
        for d in e.differences:
            console.print(f"{escape(e.title)}: {escape(str(d))}", highlight=False, soft_wrap=True)
    for note in report.notes:
        console.print(f"note: {escape(note)}", highlight=False)
    console.print(f"summary: {report.summary()}", highlight=False)


def _side(m: Milestone | None) -> str:
    if m is None:
        return "-"
    parts = [str(m.amount) if m.amount is not None else "", m.due.isoformat() if m.due is not None else ""]
    return "\n".join(p for p in parts if p) or "-"
