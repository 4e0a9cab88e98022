"""Terminal rendering shared by the CLI and the demo: plans, progress and results, with data escaped.

Titles, reasons and error texts come from the platforms and often hold ``[...]``; rich would read those as
markup and silently drop them, so every piece of data printed here goes through ``escape``.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .sync import DEFAULT_WRITE_SETTLE, ActionResult, ApplyResult, LinkStore, SyncPlan, apply_plan
from .sync.lease import Lease

__all__ = ["Tally", "apply_with_progress", "show_plan", "show_result"]


@dataclass
class Tally:
    """What an apply has done so far, kept outside its result: a run stopped by Ctrl-C has no result, and
    still has to say how many writes were made (each one is recorded in the link store, so a rerun resumes)."""

    writes: int = 0
    failed: int = 0

    def add(self, result: ActionResult) -> None:
        self.writes += result.wrote
        self.failed += not result.ok


def show_plan(plan: SyncPlan, console: Console) -> None:
    console.print(plan.table())
    console.print(f"[bold]{escape(plan.summary()) or 'nothing to do'}[/]")
    for note in plan.notes:
        console.print(f"[bold red]note[/] {escape(note)}", highlight=False)


def apply_with_progress(
    plan: SyncPlan,
    clients: object,
    store: LinkStore,
    console: Console,
    *,
    quiet: bool,
    lease: Lease | None = None,
    tally: Tally | None = None,
    write_settle: float = DEFAULT_WRITE_SETTLE,
) -> ApplyResult:
    """Apply the plan, with a progress bar unless ``quiet`` (JSON output), counting into ``tally`` as it goes
    (``write_settle``: the pair's settle window, which apply checks the stopped runs' writes against)."""
    counts = tally if tally is not None else Tally()
    if quiet:
        return apply_plan(plan, clients, store, progress=counts.add, lease=lease, write_settle=write_settle)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        # The bar counts writes: 150/150 for a run that wrote 87 and left 63 unchanged reads as 150 writes.
        writing = sum(a.writes for a in plan.actions)
        task = progress.add_task(f"applying {escape(plan.pair.id)}", total=writing)

        def tick(result: ActionResult) -> None:
            counts.add(result)
            if result.action.writes:
                progress.advance(task)

        return apply_plan(plan, clients, store, progress=tick, lease=lease, write_settle=write_settle)


def show_result(result: ApplyResult, console: Console) -> None:
    counts = ", ".join(f"{n} {k}" for k, n in result.plan.counts().items() if n)
    console.print(f"[bold]{result.writes} writes[/] ({counts})")
    for failure in result.failures:
        console.print(f"[red]failed[/] {escape(failure.action.title)}: {escape(failure.error or '')}", highlight=False)
    for finding in result.plan.findings:
        kind = finding.kind.value
        console.print(f"[bold red]{kind}[/] {escape(finding.title)}: {escape(finding.reason)}", highlight=False)
