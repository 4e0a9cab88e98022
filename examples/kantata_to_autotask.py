"""Mirror a Kantata workspace's billing milestones into an Autotask fixed-price contract.

Autotask bills by date (``dateDue`` is required); Kantata ``upon_completion`` milestones bill when a story
completes and have no date. The pair must say when each of them is due:

- ``TriggerMap.due_dates``: a date per Kantata story id (``--due STORY=YYYY-MM-DD``), recorded as "derived";
- ``TriggerMap.fallback_due``: one date for every story not listed (``--fallback-due``), opt-in and recorded
  as "defaulted";
- neither: the milestone is a conflict naming the story, and nothing is guessed.

Sandbox (default): Kantata's demo workspace (an invoiced deposit, a credit, "Design approved" on a completed
story and "Build complete" on an open one) is synced into an empty Autotask contract. The design story gets
its date from ``--due``, the build story from ``--fallback-due``.

    python examples/kantata_to_autotask.py
    python examples/kantata_to_autotask.py --no-fallback  # "Build complete" has no date: a conflict, exits 1

Real credentials:

    python examples/kantata_to_autotask.py --live --workspace 1001 --contract 29683001 \\
        --due 5004=2026-03-31 --fallback-due 2026-09-30

    Environment: KANTATA_TOKEN (optional KANTATA_BASE_URL), AUTOTASK_USERNAME, AUTOTASK_SECRET,
    AUTOTASK_INTEGRATION_CODE, AUTOTASK_CURRENCY (optional AUTOTASK_BASE_URL). The link store defaults to
    ./milestones-links.sqlite3. Autotask cannot delete contract milestones: a milestone deleted in Kantata
    after a sync shows up as a conflict to settle by hand.

Exit codes: 0 applied and in step, 1 conflicts or failures, 2 bad usage or missing settings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from contextlib import ExitStack

from _flow import plan_apply_check
from _live import DEFAULT_LINKS, add_common_arguments, fail, live_clients, parse_date, parse_dates
from _sandbox import build_demo_world, kantata_source, temp_links
from rich.console import Console

from billing_milestones import Platform
from billing_milestones.sync import LinkStore, SyncPair, SyncPlan, TriggerMap

#: Sandbox defaults: the design story is due at the end of Q1, anything else at the end of Q3.
SANDBOX_DESIGN_DUE = dt.date(2026, 3, 31)
SANDBOX_FALLBACK_DUE = dt.date(2026, 9, 30)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_common_arguments(parser)
    parser.add_argument("--workspace", help="Kantata workspace id (required with --live)")
    parser.add_argument("--contract", help="Autotask contract id (required with --live)")
    parser.add_argument(
        "--due", action="append", default=[], metavar="STORY=DATE", help="due date for a Kantata story's milestones"
    )
    parser.add_argument("--fallback-due", metavar="DATE", help="due date for every story not given with --due")
    parser.add_argument("--no-fallback", action="store_true", help="no fallback date (sandbox default is 2026-09-30)")
    parser.add_argument("--dry-run", action="store_true", help="show the plan, write nothing")
    args = parser.parse_args(argv)
    if args.live and not (args.workspace and args.contract):
        fail("--live needs --workspace and --contract")
    if args.no_fallback and args.fallback_due:
        fail("--fallback-due and --no-fallback exclude each other")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console()
    due_dates = parse_dates(args.due, "--due")
    fallback = parse_date(args.fallback_due, "--fallback-due") if args.fallback_due else None
    with ExitStack() as stack:
        if args.live:
            clients = live_clients([Platform.KANTATA, Platform.AUTOTASK], stack)
            workspace, contract = args.workspace, args.contract
            links = args.links or DEFAULT_LINKS
        else:
            world = build_demo_world()
            seeded = kantata_source(world)
            clients = world.clients(stack)
            workspace, contract = args.workspace or seeded.workspace, args.contract or str(seeded.contract)
            due_dates = {seeded.design_story: SANDBOX_DESIGN_DUE} | due_dates
            if fallback is None and not args.no_fallback:
                fallback = SANDBOX_FALLBACK_DUE
            links = args.links or temp_links(stack)

        triggers = TriggerMap(due_dates=due_dates, fallback_due=fallback)
        pair = SyncPair(Platform.KANTATA, workspace, Platform.AUTOTASK, contract, triggers=triggers)
        store = stack.enter_context(LinkStore(links))

        # Kantata's upon_completion milestones get their Autotask date from the trigger map or the fallback:
        # the plan says which, per milestone (Autotask takes at most 3 writes in flight; the engine keeps to that).
        return plan_apply_check(pair, clients, store, console, dry_run=args.dry_run, explain=show_due_dates)


def show_due_dates(plan: SyncPlan) -> None:
    for action in plan.actions:
        for change in action.desired.changes if action.desired else ():
            if change.field == "trigger":
                print(f"due date for {action.title!r}: {change.after} ({change.kind.value}, {change.reason})")


if __name__ == "__main__":
    sys.exit(main())
