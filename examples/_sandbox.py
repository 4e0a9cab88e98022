"""Sandbox setup shared by the example scripts (not an example itself).

Everything here runs offline on the emulators in ``billing_milestones.sandbox``. The seeded data comes from
the SDK's own demo (``billing_milestones.demo.build_demo_world``) and the emulators' ``seed_demo`` helpers;
this module only picks the containers each script works on and makes the deliberate edits the reconcile
report shows.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from billing_milestones import Milestone, Money, Platform
from billing_milestones.demo import DemoWorld, build_demo_world

__all__ = [
    "Clients",
    "KantataSource",
    "build_demo_world",
    "edit_for_reconcile",
    "kantata_source",
    "temp_links",
]

#: Platform -> sync client, as ``DemoWorld.clients`` returns it and the sync engine takes it.
Clients = dict[Platform, Any]


def temp_links(stack: ExitStack) -> Path:
    """A link store path in a temporary directory that lives as long as ``stack``."""
    directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="milestones-example-"))
    return Path(directory) / "links.sqlite3"


@dataclass(frozen=True)
class KantataSource:
    """A Kantata workspace to bill from, and an empty Autotask fixed-price contract to bill into."""

    workspace: str
    contract: int
    #: Story ids of the workspace's two ``upon_completion`` milestones ("Design approved", "Build complete").
    design_story: str
    build_story: str


def kantata_source(world: DemoWorld) -> KantataSource:
    """Seed Kantata's own demo data into ``world`` and add an empty USD contract on Autotask.

    The USD workspace holds an invoiced deposit, a credit, and two ``upon_completion`` milestones whose
    stories have no date, which is what makes Kantata -> Autotask interesting (Autotask bills by date).
    """
    seed = world.kantata.seed_demo()
    contract = world.autotask.add_contract(name="Website relaunch (fixed price)", currency="USD")
    return KantataSource(
        workspace=seed["workspaces"]["USD"],
        contract=contract,
        design_story=seed["stories"]["design"],
        build_story=seed["stories"]["build"],
    )


def edit_for_reconcile(world: DemoWorld, clients: Clients) -> list[str]:
    """Make the Autotask -> Kantata (ERP) pair drift after a sync, the way people do by hand.

    On Kantata: one amount edited, one milestone deleted, one unrelated milestone added. On Autotask: one
    new milestone. Returns a line per edit, for the script to print.
    """
    kantata = clients[Platform.KANTATA]
    autotask = clients[Platform.AUTOTASK]
    by_title = {m.title: m for m in kantata.milestones.list(world.erp_workspace)}

    training = by_title["User training"]
    assert training.amount is not None
    edited = Money("3400.00", training.amount.currency)
    kantata.milestones.update(training.model_copy(update={"amount": edited}))

    go_live = by_title["Go-live"]
    assert go_live.key is not None
    kantata.milestones.delete(go_live.key)

    extra = Milestone(title="Change request 7", amount=Money("1200.00", "USD"), due=dt.date(2027, 4, 30))
    kantata.milestones.create(world.erp_workspace, [extra])

    hypercare = Milestone(title="Hypercare", amount=Money("2000.00", "USD"), due=dt.date(2027, 8, 31))
    autotask.milestones.create(str(world.contract_id), [hypercare])
    return [
        f"kantata: 'User training' amount {training.amount} -> {edited}",
        "kantata: 'Go-live' deleted",
        f"kantata: 'Change request 7' ({extra.amount}) added by hand",
        f"autotask: 'Hypercare' ({hypercare.amount}) added after the sync",
    ]
