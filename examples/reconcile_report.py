"""Compare two systems' milestones for a container pair: what matches, differs or is one-sided, writing nothing.

The comparison is the SDK's own ``reconcile()`` (``billing_milestones.sync``): the sync engine's plan
pairs each source milestone with a target milestone (link store, our sync key on the target, or an exact
match) and every milestone gets one row, nothing written:

    match            paired, and every stored field is equal
    differ           paired, but fields differ (the detail lists each: source value, target value)
    source-only      the source has it, the target does not (new, or deleted on the target)
    target-only      on the target only (deleted in the source, an extra copy, or never synced)
    untranslatable   the source cannot be carried over as it is (the detail says why)

Sandbox (default): the demo's Autotask contract is synced into a Kantata workspace, then both sides are
edited by hand (an amount changed and a milestone deleted on Kantata, a milestone added on each side), and
the report shows the drift. ``--no-edits`` skips the edits: everything matches.

    python examples/reconcile_report.py
    python examples/reconcile_report.py --format csv > drift.csv
    python examples/reconcile_report.py --format json --exit-code   # exits 1 when anything differs

Real credentials:

    python examples/reconcile_report.py --live --source autotask:29683001 --target kantata:1001 \\
        [--links milestones-links.sqlite3] [--allow-drop] [--map STAGE=STORY] [--due ID=DATE]

    A crm.com side is written crmcom:<path to an order draft JSON> (see crmcom_to_kantata.py). The link store
    is only read: pass the one your syncs use to pair milestones the way they do (without it, pairing goes
    by sync key and exact match). Environment: the variables of both platforms, as in the sync scripts
    (KANTATA_TOKEN, KANTATA_BASE_URL, AUTOTASK_USERNAME, AUTOTASK_SECRET, AUTOTASK_INTEGRATION_CODE,
    AUTOTASK_CURRENCY, CRMCOM_API_KEY, CRMCOM_BASE_URL).

Exit codes: 0 report written (with ``--exit-code``: and everything matches), 1 with ``--exit-code`` when
something differs, 2 bad usage or missing settings.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path

from _live import add_common_arguments, fail, live_clients, load_draft, parse_date, parse_dates, parse_pairs
from _sandbox import Clients, build_demo_world, edit_for_reconcile, temp_links
from rich.console import Console
from rich.table import Table

from billing_milestones import Milestone, Platform
from billing_milestones.sync import (
    Link,
    LinkStore,
    ReconcileEntry,
    ReconcileReport,
    ReconcileStatus,
    SyncPair,
    TriggerMap,
    apply_plan,
    load_sides,
    plan_sync,
    reconcile,
)


@dataclass(frozen=True)
class Row:
    """One line of the report."""

    status: str
    title: str
    source: str
    target: str
    source_amount: str
    target_amount: str
    source_due: str
    target_due: str
    detail: str


def _key(m: Milestone | None) -> str:
    return str(m.key) if m is not None and m.key is not None else ""


def _amount(m: Milestone | None) -> str:
    if m is None:
        return ""
    if m.amount is not None:
        return str(m.amount)
    return f"{m.percentage}%" if m.percentage is not None else ""


def _due(m: Milestone | None) -> str:
    return m.due.isoformat() if m is not None and m.due is not None else ""


def row(entry: ReconcileEntry) -> Row:
    """One line of the report; the source side as the target should hold it (in its currency)."""
    source_view = entry.desired or entry.source
    detail = "; ".join(str(d) for d in entry.differences) or entry.reason
    return Row(
        status=entry.status.value,
        title=entry.title,
        source=_key(entry.source),
        target=_key(entry.target),
        source_amount=_amount(source_view),
        target_amount=_amount(entry.target),
        source_due=_due(source_view),
        target_due=_due(entry.target),
        detail=detail,
    )


def render(report: ReconcileReport, fmt: str, console: Console) -> None:
    rows = [row(entry) for entry in report]
    if fmt == "json":
        print(
            json.dumps({"pair": report.pair.id, "counts": report.counts(), "rows": [asdict(r) for r in rows]}, indent=2)
        )
        return
    if fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=list(Row.__dataclass_fields__), lineterminator="\n")
        writer.writeheader()
        writer.writerows(asdict(r) for r in rows)
        return
    styles = {
        ReconcileStatus.MATCH: "green",
        ReconcileStatus.DIFFER: "yellow",
        ReconcileStatus.UNTRANSLATABLE: "bold red",
    }
    table = Table(title=f"Reconcile {report.pair.id}")
    for column in ("status", "title", "source amount", "target amount", "source due", "target due", "detail"):
        table.add_column(column)
    for entry, r in zip(report, rows, strict=True):
        table.add_row(
            r.status,
            r.title,
            r.source_amount,
            r.target_amount,
            r.source_due,
            r.target_due,
            r.detail,
            style=styles.get(entry.status, "red"),
        )
    console.print(table)
    print(f"summary: {report.summary()}")


def _endpoint(text: str, option: str) -> tuple[Platform, str]:
    platform, sep, container = text.partition(":")
    if not sep or not container or platform not in {p.value for p in Platform}:
        fail(f"{option} {text!r}: expected PLATFORM:CONTAINER with PLATFORM one of crmcom, autotask, kantata")
    return Platform(platform), container


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_common_arguments(parser)
    parser.add_argument("--source", help="PLATFORM:CONTAINER, e.g. autotask:29683001 (required with --live)")
    parser.add_argument("--target", help="PLATFORM:CONTAINER, e.g. kantata:1001 (required with --live)")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    parser.add_argument("--exit-code", action="store_true", help="exit 1 when anything is not a match")
    parser.add_argument("--allow-drop", action="store_true", help="a description the target cannot hold is fine")
    parser.add_argument("--map", action="append", default=[], metavar="STAGE=STORY", help="crm.com stage = story")
    parser.add_argument("--due", action="append", default=[], metavar="ID=DATE", help="due date per stage/story")
    parser.add_argument("--fallback-due", metavar="DATE", help="due date for any other stage or story")
    parser.add_argument("--no-edits", action="store_true", help="sandbox: skip the deliberate edits")
    args = parser.parse_args(argv)
    if args.live and not (args.source and args.target):
        fail("--live needs --source and --target")
    return args


def _open_container(clients: Clients, platform: Platform, container: str) -> str:
    """The container id the common view takes; a crm.com side opens its order draft."""
    if platform is not Platform.CRMCOM:
        return container
    draft_id: str = clients[platform].milestones.open_draft(load_draft(Path(container)))
    return draft_id


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Tables go to stderr with csv/json, so stdout stays machine-readable.
    console = Console(stderr=args.format != "table", width=None if sys.stdout.isatty() else 160)
    with ExitStack() as stack:
        if args.live:
            (source_platform, source_id), (target_platform, target_id) = (
                _endpoint(args.source, "--source"),
                _endpoint(args.target, "--target"),
            )
            if source_platform is target_platform:
                fail("--source and --target must be on different platforms")
            clients = live_clients([source_platform, target_platform], stack)
            source_id = _open_container(clients, source_platform, source_id)
            target_id = _open_container(clients, target_platform, target_id)
            triggers = TriggerMap(
                stage_to_story=parse_pairs(args.map, "--map"),
                due_dates=parse_dates(args.due, "--due"),
                fallback_due=parse_date(args.fallback_due, "--fallback-due") if args.fallback_due else None,
            )
            pair = SyncPair(
                source_platform, source_id, target_platform, target_id, triggers=triggers, allow_drop=args.allow_drop
            )
            links: list[Link] = []
            if args.links is not None:
                if not args.links.exists():
                    fail(f"--links {args.links}: no such file (the report only reads a link store)")
                with LinkStore(args.links) as existing:  # read the links once; plan_sync itself never writes
                    links = existing.links(pair.id)
        else:
            world = build_demo_world()
            clients = world.clients(stack)
            # The demo's Autotask -> Kantata pair, synced once so there is a baseline to drift from.
            pair = SyncPair(
                Platform.AUTOTASK, str(world.contract_id), Platform.KANTATA, world.erp_workspace, allow_drop=True
            )
            store = stack.enter_context(LinkStore(args.links or temp_links(stack)))
            synced = apply_plan(plan_sync(pair, *load_sides(pair, clients), store), clients, store)
            console.print(f"sandbox: synced {pair.id} ({synced.writes} writes)", highlight=False)
            if not args.no_edits:
                for line in edit_for_reconcile(world, clients):
                    console.print(f"sandbox edit: {line}", highlight=False)
            links = store.links(pair.id)

        # The comparison itself: reconcile reads both sides and plans, writing nothing to either system.
        report = reconcile(pair, clients, links)
        render(report, args.format, console)
        return 1 if args.exit_code and not report.in_step else 0


if __name__ == "__main__":
    sys.exit(main())
