"""Mirror an Autotask fixed-price contract's milestones into a Kantata workspace.

Sandbox (default): the demo's "ERP rollout" contract on the Autotask emulator is synced into an empty Kantata
workspace, then planned again to show nothing is left to do.

    python examples/autotask_to_kantata.py
    python examples/autotask_to_kantata.py --no-drop      # descriptions become conflicts: exits 1

Real credentials:

    python examples/autotask_to_kantata.py --live --contract 29683001 --workspace 1001

    Environment: AUTOTASK_USERNAME, AUTOTASK_SECRET, AUTOTASK_INTEGRATION_CODE, AUTOTASK_CURRENCY
    (optional AUTOTASK_BASE_URL), KANTATA_TOKEN (optional KANTATA_BASE_URL). The link store defaults to
    ./milestones-links.sqlite3; keep it between runs, it is how the next run knows what it already did.

Kantata milestones have no description: by default the description is dropped and the drop recorded in the
plan (``allow_drop``); ``--no-drop`` refuses instead, which makes those milestones conflicts.

Exit codes: 0 applied and in step, 1 conflicts or failures, 2 bad usage or missing settings.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack

from _flow import plan_apply_check
from _live import DEFAULT_LINKS, add_common_arguments, fail, live_clients
from _sandbox import build_demo_world, temp_links
from rich.console import Console

from billing_milestones import Platform
from billing_milestones.sync import LinkStore, SyncPair


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_common_arguments(parser)
    parser.add_argument("--contract", help="Autotask contract id (required with --live)")
    parser.add_argument("--workspace", help="Kantata workspace id (required with --live)")
    parser.add_argument("--no-drop", action="store_true", help="refuse to drop descriptions (conflicts instead)")
    parser.add_argument("--dry-run", action="store_true", help="show the plan, write nothing")
    args = parser.parse_args(argv)
    if args.live and not (args.contract and args.workspace):
        fail("--live needs --contract and --workspace")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console()
    with ExitStack() as stack:
        if args.live:
            clients = live_clients([Platform.AUTOTASK, Platform.KANTATA], stack)
            contract, workspace = args.contract, args.workspace
            links = args.links or DEFAULT_LINKS
        else:
            world = build_demo_world()
            clients = world.clients(stack)
            contract = args.contract or str(world.contract_id)
            workspace = args.workspace or world.erp_workspace
            links = args.links or temp_links(stack)

        pair = SyncPair(Platform.AUTOTASK, contract, Platform.KANTATA, workspace, allow_drop=not args.no_drop)
        store = stack.enter_context(LinkStore(links))

        return plan_apply_check(pair, clients, store, console, dry_run=args.dry_run)


if __name__ == "__main__":
    sys.exit(main())
