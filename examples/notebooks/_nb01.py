"""Notebook 01, quick start: clients, native shapes, the common view and money (cells for ``_build.py``)."""

from __future__ import annotations

CELLS: list[tuple[str, str]] = [
    (
        "md",
        """# Quick start: clients, milestones and money on the sandbox

Everything here runs offline against the SDK's emulators of Kantata, Autotask and crm.com. With real
accounts, drop the `http_client=` arguments and pass your credentials (see `docs/quickstart.md`).""",
    ),
    (
        "code",
        """from decimal import ROUND_HALF_EVEN

import pandas as pd

from billing_milestones import AutotaskClient, CrmComClient, KantataClient, Money, OrderDraft, errors
from billing_milestones.autotask.query import F
from billing_milestones.sandbox import AutotaskSandbox, CrmComSandbox, KantataSandbox""",
    ),
    ("md", "## Seeded sandboxes and clients on them"),
    (
        "code",
        """kantata_sandbox, autotask_sandbox, crm_sandbox = KantataSandbox(), AutotaskSandbox(), CrmComSandbox()
kantata_ids = kantata_sandbox.seed_demo()
autotask_ids = autotask_sandbox.seed_demo()
crm_ids = crm_sandbox.seed_demo()

kantata = KantataClient("sandbox-token", http_client=kantata_sandbox.http_client())
autotask = AutotaskClient(
    AutotaskSandbox.USERNAME,
    AutotaskSandbox.SECRET,
    AutotaskSandbox.INTEGRATION_CODE,
    currency="USD",  # Autotask amounts carry no currency: say which one the contracts bill in
    http_client=autotask_sandbox.http_client(),
)
crmcom = CrmComClient(crm_ids.secret_key, http_client=crm_sandbox.http_client())
kantata_ids["workspaces"], autotask_ids["usd_contract"]""",
    ),
    (
        "md",
        """## Native shapes

Each client exposes the platform's own resources under the platform's own names: Kantata's
`billing_milestones` (amounts in integer cents), Autotask's `contract_milestones` (a query language), and
crm.com's order `estimates` (milestones are a plan of the order total across queue stages).""",
    ),
    (
        "code",
        """usd_workspace = kantata_ids["workspaces"]["USD"]
for bm in kantata.billing_milestones.list(workspace_ids=[usd_workspace]):
    print(f"kantata  {bm.id} {bm.title!r:20} {bm.amount_in_cents:>9} cents  {bm.billing_type:16} {bm.invoiced=}")""",
    ),
    (
        "code",
        """for cm in autotask.contract_milestones.query(F.eq("contractID", autotask_ids["usd_contract"])):
    print(f"autotask {cm.id} {cm.title!r:20} {cm.amount:>9}  due {cm.date_due:%Y-%m-%d}  status {cm.status}")""",
    ),
    (
        "code",
        """draft = OrderDraft(
    account_id=crm_ids.account_id,
    supply_method="DIRECT_SALE",
    delivery_method="COURIER_SERVICE",
    payment_method_type="CARD",
    items=[{"id": crm_ids.products["USD"], "quantity": 3}],
    queue_id=crm_ids.queues["standard"],
)
estimate = crmcom.estimates.order(draft)
print("crm.com order total:", estimate.total, estimate.currency_code)
for item in estimate.plan():
    print(f"crm.com  stage {item.stage.name!r:15} {item.percentage or item.queue_percentage}% -> {item.amount}")""",
    ),
    (
        "md",
        """## The common view

`client.milestones` speaks one model on every platform: `Milestone` with an exact `Money` amount, a due date,
a trigger (a date, a completed story, or an order stage) and a status. A crm.com "container" is an order draft.""",
    ),
    (
        "code",
        """draft_id = crmcom.milestones.open_draft(draft)
views = [
    (kantata, usd_workspace),
    (autotask, str(autotask_ids["usd_contract"])),
    (crmcom, draft_id),
]
rows = [
    {
        "platform": m.key.platform.value,
        "title": m.title,
        "amount": str(m.amount),
        "due": m.due,
        "trigger": m.trigger.kind.value,
        "status": m.status.value,
        "locked": m.locked,
    }
    for client, container in views
    for m in client.milestones.list(container)
]
common = pd.DataFrame(rows).sort_values(["platform", "title"], ignore_index=True)
common""",
    ),
    (
        "code",
        """print("milestones per platform:", common.groupby("platform").size().to_dict())
locked = common[common["locked"]]
print("locked (billed or invoiced):", sorted(locked["platform"] + ":" + locked["title"]))""",
    ),
    (
        "md",
        """## Money: exact, per ISO 4217

JPY has no minor unit, USD has 2 decimals, KWD has 3. Floats are refused, and converting to minor units is
exact or raises (unless you name a rounding mode).""",
    ),
    (
        "code",
        """for amount in (Money("1500000", "JPY"), Money("19.99", "USD"), Money("12.345", "KWD")):
    print(f"{amount!s:>14}  exponent {amount.exponent}  minor units {amount.to_minor()}")""",
    ),
    (
        "code",
        """try:
    Money(0.1, "USD")
except errors.ValidationError as exc:
    print("refused:", exc)""",
    ),
    (
        "code",
        """kwd = Money("12.3456", "KWD")
try:
    kwd.to_minor()
except errors.ValidationError as exc:
    print("not exact:", exc)
print("rounded on request:", kwd.to_minor(rounding=ROUND_HALF_EVEN))
print("round trip:", Money.from_minor(12345, "KWD"))""",
    ),
    (
        "code",
        """for client in (kantata, autotask, crmcom):
    client.close()""",
    ),
]
