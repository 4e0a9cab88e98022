"""One small world on each platform's emulator, with credentials of the test's choosing (canaries, so a
test can look for them in what the SDK wrote), for tests that run every client against its sandbox."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from billing_milestones.sandbox import AutotaskSandbox, CrmComSandbox, KantataSandbox


@dataclass(frozen=True)
class ThreeSandboxes:
    """A Kantata workspace with one milestone, an empty Autotask contract and crm.com's demo data."""

    kantata: KantataSandbox
    workspace: str
    autotask: AutotaskSandbox
    contract: int
    crmcom: CrmComSandbox
    crmcom_key: str


def three_sandboxes(name: str, *, kantata_token: str, autotask_secret: str, autotask_code: str) -> ThreeSandboxes:
    kantata = KantataSandbox(tokens=[kantata_token])
    workspace = kantata.add_workspace(name, currency="USD")
    kantata.add_milestone(workspace, "Kick-off", 400_000, date_to_invoice=dt.date(2027, 1, 15))
    autotask = AutotaskSandbox()
    autotask.users = {AutotaskSandbox.USERNAME: autotask_secret}
    autotask.integration_codes = {autotask_code}
    contract = autotask.add_contract(name=name, currency="USD")
    crmcom = CrmComSandbox()
    key = crmcom.seed_demo().secret_key
    return ThreeSandboxes(kantata, workspace, autotask, contract, crmcom, key)
