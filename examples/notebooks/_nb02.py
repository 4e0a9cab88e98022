"""Notebook 02, plan a sync: the plan as a DataFrame, then both billing schedules plotted (cells for ``_build.py``)."""

from __future__ import annotations

CELLS: list[tuple[str, str]] = [
    (
        "md",
        """# Plan a sync, and see both billing schedules

The demo's Autotask fixed-price contract ("ERP rollout") is planned into an empty Kantata workspace. The plan
is pure (nothing is written) and becomes a DataFrame; after applying it, both systems' schedules are plotted
on one time axis.""",
    ),
    (
        "code",
        """%matplotlib inline
%config InlineBackend.figure_formats = ["png"]
from contextlib import ExitStack

import matplotlib.pyplot as plt
import pandas as pd

from billing_milestones import Platform
from billing_milestones.demo import build_demo_world
from billing_milestones.sync import LinkStore, SyncPair, apply_plan, load_sides, plan_sync

plt.rcParams["figure.dpi"] = 80  # small stored images
stack = ExitStack()
world = build_demo_world()
clients = world.clients(stack)
store = stack.enter_context(LinkStore(":memory:"))
pair = SyncPair(
    Platform.AUTOTASK,
    str(world.contract_id),
    Platform.KANTATA,
    world.erp_workspace,
    allow_drop=True,  # Kantata milestones have no description: drop it, recorded
)
print(pair.id)""",
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
        changes = a.desired.changes if a.desired else ()
        rows.append(
            {
                "action": a.kind.value,
                "title": a.title,
                "amount": shown.amount.amount if shown and shown.amount else None,
                "currency": shown.amount.currency if shown and shown.amount else None,
                "due": pd.Timestamp(shown.due) if shown and shown.due else pd.NaT,
                "reason": a.reason,
                "changes": "; ".join(f"{c.field} {c.kind.value}" for c in changes),
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
dropped = frame["changes"].str.contains("description dropped")
print("descriptions dropped:", int(dropped.sum()))""",
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
        """## Both billing schedules

Each system's milestones are read back through the common view. Amounts stay exact `Decimal`s for the
totals; matplotlib gets a float copy (`plot`) only for drawing.""",
    ),
    (
        "code",
        """def schedule(platform, container):
    rows = [
        {"title": m.title, "due": pd.Timestamp(m.due), "amount": m.amount.amount}
        for m in clients[platform].milestones.list(container)
    ]
    frame = pd.DataFrame(rows).sort_values("due", ignore_index=True)
    frame["plot"] = frame["amount"].astype(float)  # for drawing only
    frame["cumulative"] = frame["plot"].cumsum()
    return frame


sides = {
    "autotask (source)": schedule(Platform.AUTOTASK, pair.source_container),
    "kantata (target)": schedule(Platform.KANTATA, pair.target_container),
}
for name, side in sides.items():
    total = side["amount"].sum()  # a Decimal sum: exact to the cent
    print(f"{name:18} {len(side)} milestones, total {total:>10,.2f} USD")""",
    ),
    (
        "md",
        """How to read the figure:

- **Top**: one bar per milestone at its due date, its height the amount in USD. Each due date has two
    bars side by side, the source (Autotask, blue, left) and the target (Kantata, orange, right): they
    are offset by five days either way so that neither hides the other. Labels give the title and the
    exact amount.
- **Bottom**: the amount billed so far on each side, stepping up at each due date. The source is a
    solid line with filled circles, the target a dashed line with hollow squares; after a clean sync
    they coincide, so the dashed line runs on top of the solid one. The total is annotated at the end.
- Both money axes start at 0 and show USD with thousands separators.""",
    ),
    (
        "code",
        """from matplotlib.ticker import StrMethodFormatter

styles = {
    "autotask (source)": dict(color="tab:blue", marker="o", linestyle="-", days=-5),
    "kantata (target)": dict(color="tab:orange", marker="s", linestyle="--", days=5),
}
fig, (bars, cumulative) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True)
for name, side in sides.items():
    style = styles[name]
    offset = pd.Timedelta(days=style["days"])
    bars.bar(side["due"] + offset, side["plot"], width=9, color=style["color"], label=name)
    cumulative.step(
        side["due"],
        side["cumulative"],
        where="post",
        color=style["color"],
        linestyle=style["linestyle"],
        marker=style["marker"],
        markerfacecolor=style["color"] if style["marker"] == "o" else "none",
        markersize=8,
        label=name,
    )
source = sides["autotask (source)"]
for _, m in source.iterrows():
    label = f"{m['title']}\\n{m['amount']:,.2f}"
    bars.annotate(
        label,
        (m["due"], m["plot"]),
        textcoords="offset points",
        xytext=(0, 4),
        ha="center",
        va="bottom",
        fontsize=8,
    )
total = source["amount"].sum()
last = source.iloc[-1]
cumulative.annotate(
    f"total {total:,.2f} USD",
    (last["due"], last["cumulative"]),
    textcoords="offset points",
    xytext=(-12, 6),
    ha="right",
    fontweight="bold",
)
for ax in (bars, cumulative):
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
bars.set_ylim(top=source["plot"].max() * 1.3)
cumulative.set_ylim(top=float(total) * 1.15)
bars.set_ylabel("amount per milestone (USD)")
bars.set_title("Each milestone's amount by due date (source left, target right)")
cumulative.set_ylabel("billed so far (USD)")
cumulative.set_xlabel("due date")
cumulative.set_title("Cumulative amount billed: the dashed target line runs on the solid source line")
fig.tight_layout()""",
    ),
    ("code", "stack.close()"),
]
