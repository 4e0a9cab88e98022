"""Notebook 03, reconcile: sync, edit both sides by hand, then report and draw where they differ (cells for
``_build.py``)."""

from __future__ import annotations

CELLS: list[tuple[str, str]] = [
    (
        "md",
        """# Reconcile two systems

After a sync, people edit milestones by hand. This notebook syncs the demo's Autotask contract into Kantata,
edits both sides on purpose, and then asks `reconcile` which milestones match, which differ (field by
field, with both values) and which are on one side only, and why. Nothing is written by the reconcile: it
reads both systems and the link store. `milestones reconcile PAIR` does the same from the command line.""",
    ),
    (
        "code",
        """%matplotlib inline
%config InlineBackend.figure_formats = ["png"]
import datetime as dt
from contextlib import ExitStack

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import MultipleLocator, StrMethodFormatter

from billing_milestones import Milestone, Money, Platform
from billing_milestones.demo import build_demo_world
from billing_milestones.sync import (
    LinkStore,
    SyncPair,
    apply_plan,
    load_sides,
    plan_sync,
    reconcile,
)

plt.rcParams["figure.dpi"] = 80  # small stored images
stack = ExitStack()
world = build_demo_world()
clients = world.clients(stack)
kantata, autotask = clients[Platform.KANTATA], clients[Platform.AUTOTASK]
store = stack.enter_context(LinkStore(":memory:"))
pair = SyncPair(
    Platform.AUTOTASK,
    str(world.contract_id),
    Platform.KANTATA,
    world.erp_workspace,
    allow_drop=True,
)
synced = apply_plan(plan_sync(pair, *load_sides(pair, clients), store), clients, store)
print(f"synced: {synced.writes} writes, ok={synced.ok}")
print("right after the sync:", reconcile(pair, clients, store).summary())""",
    ),
    (
        "md",
        """## Deliberate edits on both sides

On Kantata: one amount raised, one due date moved, one milestone deleted and one added by hand. On
Autotask: one milestone added after the sync.""",
    ),
    (
        "code",
        """def usd(text):
    return Money(text, "USD")


on_kantata = {m.title: m for m in kantata.milestones.list(world.erp_workspace)}
training, migration = on_kantata["User training"], on_kantata["Data migration"]
kantata.milestones.update(training.model_copy(update={"amount": usd("3400.00")}))
kantata.milestones.update(migration.model_copy(update={"due": dt.date(2027, 4, 15)}))
kantata.milestones.delete(on_kantata["Go-live"].key)
change = Milestone(title="Change request 7", amount=usd("1200.00"), due=dt.date(2027, 4, 30))
kantata.milestones.create(world.erp_workspace, [change])
hypercare = Milestone(title="Hypercare", amount=usd("2000.00"), due=dt.date(2027, 8, 31))
autotask.milestones.create(pair.source_container, [hypercare])
print("edited: 2 Kantata milestones changed, 1 deleted, 1 added; 1 Autotask milestone added")""",
    ),
    (
        "md",
        """## The report

One entry per milestone. `to_frame()` keeps amounts exact (`Decimal`) and marks an absent value as
`None` in every column (never `NaN`). First the two sides' amounts and due dates:""",
    ),
    (
        "code",
        """report = reconcile(pair, clients, store)  # reads both systems; writes nothing
print("report:", report.summary())
frame = report.to_frame()
frame[["status", "title", "source_amount", "target_amount", "source_due", "target_due"]]""",
    ),
    ("md", "Why each milestone stands where it does, the reason in full:"),
    (
        "code",
        """with pd.option_context("display.max_colwidth", None):
    display(frame[["title", "fields", "reason"]].set_index("title"))""",
    ),
    ("md", "Each differing field, with the source's value (as Kantata should hold it) and Kantata's:"),
    (
        "code",
        """report.differences_frame()""",
    ),
    (
        "code",
        """for entry in report:
    print(f"{entry.status.value:12} {entry.title}")
    print(f"    {entry.reason}")""",
    ),
    (
        "md",
        """## Where the two systems differ

One row per milestone, its status in the row label (green match, red differ, blue source only, purple
target only). Left, the amount in USD; right, the due date. A filled blue circle is the Autotask (source)
value, a hollow orange square the Kantata (target) value: where they agree the circle sits inside the
square, where they differ a red line joins them and the gap is written beside it, and a row with a single
marker is on one side only. The amount axis starts at 0.""",
    ),
    (
        "code",
        """colors = {
    "match": "tab:green",
    "differ": "tab:red",
    "source-only": "tab:blue",
    "target-only": "tab:purple",
    "untranslatable": "black",
}


def amount(m):
    return float(m.amount.amount) if m is not None and m.amount is not None else None


def due(m):
    return pd.Timestamp(m.due) if m is not None and m.due is not None else None


def gap(field, source, target):
    if field == "amount":
        return f"{target - source:+,.2f} USD"
    return f"{(target - source).days:+d} days"


rows = list(reversed(report.entries))  # the report's first entry at the top
fig, (amounts, dues) = plt.subplots(1, 2, figsize=(10, 4.5), sharey=True)
for ax, field, value in ((amounts, "amount", amount), (dues, "due", due)):
    for y, entry in enumerate(rows):
        s, t = value(entry.desired or entry.source), value(entry.target)
        if s is not None and t is not None and s != t:
            ax.plot([s, t], [y, y], color=colors["differ"], linewidth=2, zorder=1)
            ax.annotate(
                gap(field, s, t),
                (max(s, t), y),
                textcoords="offset points",
                xytext=(10, -3),
                color=colors["differ"],
                fontsize=9,
            )
        if s is not None:
            ax.plot(s, y, "o", color="tab:blue", markersize=8, zorder=2, label="autotask (source)")
        if t is not None:
            ax.plot(
                t,
                y,
                "s",
                markerfacecolor="none",
                markeredgecolor="tab:orange",
                markeredgewidth=2,
                markersize=12,
                zorder=3,
                label="kantata (target)",
            )
    ax.grid(axis="x", alpha=0.3)
amounts.set_yticks(range(len(rows)), [f"{e.title}\\n{e.status.value}" for e in rows])
for tick, entry in zip(amounts.get_yticklabels(), rows, strict=True):
    tick.set_color(colors[entry.status.value])
amounts.set_xlim(0, 15000)
amounts.xaxis.set_major_locator(MultipleLocator(5000))
amounts.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
amounts.set_xlabel("amount (USD)")
amounts.set_title("Amount")
dues.xaxis.set_major_locator(mdates.MonthLocator(interval=2))
dues.xaxis.set_major_formatter(mdates.DateFormatter("%b\\n%Y"))
dues.set_xlim(pd.Timestamp("2026-12-15"), pd.Timestamp("2027-10-15"))
dues.set_xlabel("due date")
dues.set_title("Due date")
handles = dict(zip(*reversed(amounts.get_legend_handles_labels()), strict=True))
order = ["autotask (source)", "kantata (target)"]
fig.legend([handles[name] for name in order], order, loc="lower center", ncol=2)
fig.suptitle("Where Autotask and Kantata differ")
fig.tight_layout(rect=(0, 0.07, 1, 1))""",
    ),
    ("code", "stack.close()"),
]
