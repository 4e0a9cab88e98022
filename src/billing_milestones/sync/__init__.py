"""Keep billing milestones in step between platforms: plan (pure) -> dry run -> apply, with a link store."""

from ._prune_runs import PruneResult, prune_runs
from ._rows import MilestoneRow
from ._settle import DEFAULT_WRITE_SETTLE, settle_pending
from .apply import ActionResult, ApplyResult, apply_plan, load_sides, resolve_view
from .lease import Lease, LeaseHolder
from .links import Intent, Link, LinkStore, RunRecord
from .pair import ConflictPolicy, SyncPair, sync_key_for
from .plan import ActionKind, PlannedAction, SyncPlan, plan_sync
from .reconcile import Difference, ReconcileEntry, ReconcileReport, ReconcileStatus, reconcile
from .translate import FieldDiff, compare, translate
from .triggers import TriggerMap

__all__ = [
    "DEFAULT_WRITE_SETTLE",
    "ActionKind",
    "ActionResult",
    "ApplyResult",
    "ConflictPolicy",
    "Difference",
    "FieldDiff",
    "Intent",
    "Lease",
    "LeaseHolder",
    "Link",
    "LinkStore",
    "MilestoneRow",
    "PlannedAction",
    "PruneResult",
    "ReconcileEntry",
    "ReconcileReport",
    "ReconcileStatus",
    "RunRecord",
    "SyncPair",
    "SyncPlan",
    "TriggerMap",
    "apply_plan",
    "compare",
    "load_sides",
    "plan_sync",
    "prune_runs",
    "reconcile",
    "resolve_view",
    "settle_pending",
    "sync_key_for",
    "translate",
]
