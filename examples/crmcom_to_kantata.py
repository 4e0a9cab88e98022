"""Mirror a crm.com order's billing milestones into a Kantata workspace, stage by story.

crm.com bills when an order reaches a stage; Kantata bills when a story completes. The pair maps each crm.com
stage id to a Kantata story id (``TriggerMap.stage_to_story``); a stage without a story is a conflict that
names it. crm.com milestones live on an order estimate, so the source container is an order draft.

Sandbox (default): the demo's website order (three stages: 30/30/40 % of 24,999.99 USD) is synced into a
Kantata workspace with one story per stage, then planned again to show nothing is left to do.

    python examples/crmcom_to_kantata.py
    python examples/crmcom_to_kantata.py --unmapped       # leaves one stage unmapped: a conflict, exits 1

Real credentials:

    python examples/crmcom_to_kantata.py --live --draft order-draft.json --workspace 1001 \\
        --map <stage-id>=<story-id> --map <stage-id>=<story-id>

    order-draft.json is the estimate request: {"account_id": ..., "supply_method": "DIRECT_SALE",
    "delivery_method": "COURIER_SERVICE", "payment_method_type": "CARD", "items": [{"id": ..., "quantity": 1}],
    "queue_id": ...}. The script prints the stage ids it finds and the estimation id it opened: add that
    "estimation_id" to the file so the next run reopens the same estimate (the link store is keyed by it).

    Environment: CRMCOM_API_KEY (optional CRMCOM_BASE_URL), KANTATA_TOKEN (optional KANTATA_BASE_URL). The
    link store defaults to ./milestones-links.sqlite3.

Exit codes: 0 applied and in step, 1 conflicts or failures, 2 bad usage or missing settings.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path

from _flow import plan_apply_check
from _live import DEFAULT_LINKS, add_common_arguments, fail, live_clients, load_draft, parse_pairs
from _sandbox import build_demo_world, temp_links
from rich.console import Console

from billing_milestones import Platform
from billing_milestones.sync import LinkStore, SyncPair, TriggerMap


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_common_arguments(parser)
    parser.add_argument("--draft", type=Path, help="crm.com order draft as JSON (required with --live)")
    parser.add_argument("--workspace", help="Kantata workspace id (required with --live)")
    parser.add_argument(
        "--map", action="append", default=[], metavar="STAGE=STORY", help="crm.com stage id = Kantata story id"
    )
    parser.add_argument("--unmapped", action="store_true", help="sandbox: leave the last stage without a story")
    parser.add_argument("--dry-run", action="store_true", help="show the plan, write nothing")
    args = parser.parse_args(argv)
    if args.live and not (args.draft and args.workspace):
        fail("--live needs --draft and --workspace")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console()
    with ExitStack() as stack:
        if args.live:
            clients = live_clients([Platform.CRMCOM, Platform.KANTATA], stack)
            draft, workspace = load_draft(args.draft), args.workspace
            stage_to_story = parse_pairs(args.map, "--map")
            links = args.links or DEFAULT_LINKS
        else:
            world = build_demo_world()
            clients = world.clients(stack)
            draft, workspace = world.draft, args.workspace or world.website_workspace
            stage_to_story = dict(world.stage_to_story) | parse_pairs(args.map, "--map")
            if args.unmapped:
                stage_to_story.pop(list(stage_to_story)[-1])
            links = args.links or temp_links(stack)

        crmcom = clients[Platform.CRMCOM]
        draft_id = crmcom.milestones.open_draft(draft)
        print(f"crm.com estimation id: {draft_id}")
        for m in crmcom.milestones.list(draft_id):
            story = stage_to_story.get(m.trigger.ref or "", "(no story mapped)")
            print(f"  stage {m.title!r} id {m.trigger.ref} -> Kantata story {story}")

        pair = SyncPair(
            Platform.CRMCOM, draft_id, Platform.KANTATA, workspace, triggers=TriggerMap(stage_to_story=stage_to_story)
        )
        store = stack.enter_context(LinkStore(links))

        # crm.com amounts come from the stage percentages of the order total (recorded as derived)
        return plan_apply_check(pair, clients, store, console, dry_run=args.dry_run)


if __name__ == "__main__":
    sys.exit(main())
