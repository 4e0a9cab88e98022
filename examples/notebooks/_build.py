"""Write the example notebooks from the cell sources below (run once after editing: ``python _build.py``).

The notebooks are kept in git without outputs; the test suite executes them (tests/examples). Keeping their
source here makes review and diffs plain Python, and the cell ids stable.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

HERE = Path(__file__).resolve().parent

Cell = tuple[str, str]  # ("md" | "code", source)

QUICKSTART: list[Cell] = [
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
common = pd.DataFrame(rows)
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

PLAN: list[Cell] = [
    (
        "md",
        """# Plan a sync, and see both billing schedules

The demo's Autotask fixed-price contract ("ERP rollout") is planned into an empty Kantata workspace. The plan
is pure (nothing is written) and becomes a DataFrame; after applying it, both systems' schedules are plotted
on one timeline.""",
    ),
    (
        "code",
        """%matplotlib inline
from contextlib import ExitStack

import matplotlib.pyplot as plt
import pandas as pd

from billing_milestones import Platform
from billing_milestones.demo import build_demo_world
from billing_milestones.sync import LinkStore, SyncPair, apply_plan, load_sides, plan_sync

stack = ExitStack()
world = build_demo_world()
clients = world.clients(stack)
store = stack.enter_context(LinkStore(":memory:"))
pair = SyncPair(Platform.AUTOTASK, str(world.contract_id), Platform.KANTATA, world.erp_workspace, allow_drop=True)
pair.id""",
    ),
    ("md", "## The plan as a DataFrame"),
    (
        "code",
        """source, target = load_sides(pair, clients)
plan = plan_sync(pair, source, target, store)


def plan_frame(plan):
    rows = []
    for a in plan.actions:
        shown = a.desired or a.source or a.target
        rows.append(
            {
                "action": a.kind.value,
                "title": a.title,
                "amount": shown.amount.amount if shown and shown.amount else None,
                "currency": shown.amount.currency if shown and shown.amount else None,
                "due": pd.Timestamp(shown.due) if shown and shown.due else pd.NaT,
                "reason": a.reason,
                "changes": "; ".join(f"{c.field} {c.kind.value}" for c in (a.desired.changes if a.desired else ())),
            }
        )
    return pd.DataFrame(rows)


frame = plan_frame(plan)
frame""",
    ),
    (
        "code",
        """print("plan:", plan.summary())
print("total to bill:", frame["amount"].sum(), frame["currency"].iloc[0])
print("descriptions dropped:", int(frame["changes"].str.contains("description dropped").sum()))""",
    ),
    (
        "code",
        """result = apply_plan(plan, clients, store)
again = plan_sync(pair, *load_sides(pair, clients), store)
print(f"applied: {result.writes} writes, ok={result.ok}")
print("second plan:", again.summary())""",
    ),
    (
        "md",
        """## Billing-schedule timeline

Source (Autotask) and target (Kantata) milestones by due date, with their amounts; below, the cumulative amount
billed on each side. After a clean sync the two schedules coincide.""",
    ),
    (
        "code",
        """def schedule(platform, container):
    rows = [
        {"system": platform.value, "title": m.title, "due": pd.Timestamp(m.due), "amount": m.amount.amount}
        for m in clients[platform].milestones.list(container)
    ]
    frame = pd.DataFrame(rows).sort_values("due")
    frame["plot"] = frame["amount"].astype(float)  # matplotlib draws floats; totals stay exact Decimals
    return frame


both = pd.concat(
    [schedule(Platform.AUTOTASK, pair.source_container), schedule(Platform.KANTATA, pair.target_container)]
)
fig, (timeline, cumulative) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
for row, (system, group) in enumerate(both.groupby("system", sort=False)):
    timeline.scatter(group["due"], [row] * len(group), s=group["plot"] / 20, alpha=0.6, label=system)
    for _, m in group.iterrows():
        label = f"{m['title']}\\n{m['amount']:,.2f}"
        timeline.annotate(label, (m["due"], row), textcoords="offset points", xytext=(0, 12), ha="center", fontsize=8)
    cumulative.step(group["due"], group["plot"].cumsum(), where="post", label=system)
timeline.set_yticks([0, 1], ["autotask (source)", "kantata (target)"])
timeline.set_ylim(-0.6, 1.9)
timeline.set_title("Billing schedule, USD")
cumulative.set_ylabel("cumulative USD")
cumulative.legend()
fig.tight_layout()
both.groupby("system")["amount"].sum()  # Decimal sums: exact to the cent""",
    ),
    ("code", "stack.close()"),
]

RECONCILE: list[Cell] = [
    (
        "md",
        """# Reconcile two systems

After a sync, people edit the target by hand. This notebook syncs the demo's Autotask contract into Kantata,
edits Kantata on purpose, and then compares both sides without writing anything: the sync engine's plan pairs
the milestones (link store, sync key, exact match) and its field diffs become a DataFrame of mismatches with
reasons. `examples/reconcile_report.py` does the same from the command line.""",
    ),
    (
        "code",
        """import datetime as dt
from contextlib import ExitStack

import pandas as pd

from billing_milestones import Milestone, Money, Platform
from billing_milestones.demo import build_demo_world
from billing_milestones.sync import ActionKind, LinkStore, SyncPair, apply_plan, load_sides, plan_sync

stack = ExitStack()
world = build_demo_world()
clients = world.clients(stack)
kantata = clients[Platform.KANTATA]
store = stack.enter_context(LinkStore(":memory:"))
pair = SyncPair(Platform.AUTOTASK, str(world.contract_id), Platform.KANTATA, world.erp_workspace, allow_drop=True)
synced = apply_plan(plan_sync(pair, *load_sides(pair, clients), store), clients, store)
print(f"synced: {synced.writes} writes, ok={synced.ok}")""",
    ),
    ("md", "## Deliberate edits on the Kantata side"),
    (
        "code",
        """by_title = {m.title: m for m in kantata.milestones.list(world.erp_workspace)}
kantata.milestones.update(by_title["User training"].model_copy(update={"amount": Money("3400.00", "USD")}))
kantata.milestones.update(by_title["Data migration"].model_copy(update={"due": dt.date(2027, 4, 15)}))
kantata.milestones.create(
    world.erp_workspace, [Milestone(title="Change request 7", amount=Money("1200.00", "USD"), due=dt.date(2027, 4, 30))]
)
[(m.title, str(m.amount), m.due) for m in kantata.milestones.list(world.erp_workspace)]""",
    ),
    ("md", "## Compare: one row per differing field, with the reason"),
    (
        "code",
        """source, target = load_sides(pair, clients)
plan = plan_sync(pair, source, target, store)  # pure: nothing is written
print("plan:", plan.summary())

rows = []
paired = set()
for a in plan.actions:
    if a.target is not None:
        paired.add(a.target.key)
    if a.kind is ActionKind.UNCHANGED:
        continue
    for d in a.diff or [None]:
        rows.append(
            {
                "title": a.title,
                "status": "mismatch" if a.diff else a.kind.value,
                "field": d.field if d else None,
                "kantata": str(d.current) if d else None,
                "autotask": str(d.desired) if d else None,
                "reason": a.reason,
            }
        )
for m in target:
    if m.key not in paired:
        rows.append(
            {
                "title": m.title,
                "status": "extra-on-target",
                "field": None,
                "kantata": str(m.amount),
                "autotask": None,
                "reason": "only in Kantata: no source milestone, link or sync key",
            }
        )
mismatches = pd.DataFrame(rows)
mismatches""",
    ),
    (
        "code",
        """print("in step:", sorted(a.title for a in plan.actions if a.kind is ActionKind.UNCHANGED))
print("mismatched fields:", sorted(zip(mismatches["title"], mismatches["field"].fillna("-"), strict=True)))
print("status counts:", mismatches.groupby("status")["title"].nunique().to_dict())""",
    ),
    ("code", "stack.close()"),
]

NOTEBOOKS: dict[str, list[Cell]] = {
    "01_quickstart.ipynb": QUICKSTART,
    "02_plan_a_sync.ipynb": PLAN,
    "03_reconcile.ipynb": RECONCILE,
}


def build(name: str, cells: list[Cell]) -> NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    stem = name.split("_", 1)[0]
    for i, (kind, source) in enumerate(cells):
        cell = nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source)
        cell.id = f"nb{stem}-{i:02d}"  # stable ids: regenerating changes nothing unless the source did
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def main() -> int:
    for name, cells in NOTEBOOKS.items():
        nbformat.write(build(name, cells), HERE / name)
        print(f"wrote {HERE / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
