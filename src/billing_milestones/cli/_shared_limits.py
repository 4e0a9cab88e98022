"""The clients of a ``milestones plan`` or ``sync`` run, drawing on the limits the workers share when there are.

With a PostgreSQL link store, workers on several machines share an Autotask tenant's three concurrent requests
per endpoint and its hourly budget (and Kantata's rate, when configured) through that database. A CLI run
beside them with the clients' in-process limits would add its own three concurrent requests and hourly count
to theirs, and Autotask refuses the fourth. So with a PostgreSQL store and the ``[workers]`` extra (which
brings the shared limiter's connection pool), a CLI run connects its clients as a worker does
(:class:`~..workers.SharedBudgets`, with the config's ``[workers]`` settings) and counts against the same
budgets. With SQLite (one machine, no workers) or without the extra, the in-process limits stay.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from ..model import Platform
from ..sync._store_config import worker_settings
from ..sync.config import Settings
from ..sync.connect import connect
from ..sync.store import parse_target

__all__ = ["run_connector"]


def run_connector(settings: Settings, stack: ExitStack) -> Callable[[Platform, Settings], Any]:
    """``connect``, or for a PostgreSQL store a worker's connect over the shared budgets, closed with ``stack``."""
    target = parse_target(settings.links)
    if target.kind != "postgresql":
        return connect
    try:
        from ..workers import SharedBudgets
    except ImportError:  # no [workers] extra: no shared limiter to draw on, and no worker to share with
        return connect
    budgets = SharedBudgets(target.location, worker_settings(settings.path, settings.pairs))
    stack.callback(budgets.close)
    return budgets.connect
