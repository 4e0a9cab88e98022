"""The three steps every sync example runs (not an example itself): plan, apply, plan again.

Kept in one place so the scripts show only what differs between them: the pair and its trigger map.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console

from billing_milestones.sync import LinkStore, SyncPair, SyncPlan, apply_plan, load_sides, plan_sync

__all__ = ["plan_apply_check"]


def plan_apply_check(
    pair: SyncPair,
    clients: Any,
    store: LinkStore,
    console: Console,
    *,
    dry_run: bool,
    explain: Callable[[SyncPlan], None] | None = None,
) -> int:
    """Exit code 0 when the sync applied cleanly and a second plan has nothing to do, else 1."""
    # 1. plan: read both sides completely, decide every milestone, write nothing
    source, target = load_sides(pair, clients)
    plan = plan_sync(pair, source, target, store)
    console.print(plan.table())
    print(f"plan: {plan.summary() or 'empty'}")
    if explain is not None:
        explain(plan)
    for action in plan.conflicts:
        print(f"conflict: {action.title}: {action.reason}")
    if dry_run:
        print("dry run: nothing written")
        return 1 if plan.conflicts else 0

    # 2. apply: the only step that writes; conflicts are left alone and reported
    result = apply_plan(plan, clients, store)
    print(f"applied: {result.writes} writes")
    for failure in result.failures:
        print(f"failed: {failure.action.title}: {failure.error}")

    # 3. check: a second plan right after a clean sync has nothing to do
    again = plan_sync(pair, *load_sides(pair, clients), store)
    print("second run: nothing left to do" if again.is_noop else f"second run: {again.summary()}")
    return 0 if result.ok and again.is_noop else 1
