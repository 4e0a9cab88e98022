"""Sync pairs run by procrastinate workers, sharing one PostgreSQL queue and link store (``[workers]`` extra).

``milestones worker`` runs :func:`run_worker`; ``milestones enqueue`` runs :func:`enqueue_pairs`.
"""

from ._app import SYNC_TASK, WorkerApp, cron_for, pair_lock
from ._budgets import PostgresHourlyBudget, PostgresLimiter
from ._clients import SharedBudgets
from ._run import REFUSED, TRANSIENT, PairRunIncomplete, PairRunRefused, run_pair
from ._worker import enqueue_pairs, run_worker

__all__ = [
    "REFUSED",
    "SYNC_TASK",
    "TRANSIENT",
    "PairRunIncomplete",
    "PairRunRefused",
    "PostgresHourlyBudget",
    "PostgresLimiter",
    "SharedBudgets",
    "WorkerApp",
    "cron_for",
    "enqueue_pairs",
    "pair_lock",
    "run_pair",
    "run_worker",
]
