"""The plan JSON a script reads: every key and value pinned (sync/actions.py)."""

from __future__ import annotations

import json

from billing_milestones.sync import plan_sync, sync_key_for

from .test_plan import PAIR, link_for, src, tgt


def test_the_plan_json_holds_exactly_these_keys_and_values() -> None:
    s, t = src(1, amount="120.00"), tgt("5")
    plan = plan_sync(PAIR, [s], [t], [link_for(src(1), t)])  # linked at 100.00, the source now says 120.00
    data = json.loads(plan.to_json_text())
    key = sync_key_for(PAIR, s.key)  # type: ignore[arg-type]
    assert data == {
        "schema_version": 1,
        "pair": "autotask:77->kantata:900",
        "policy": "report",
        "created_at": plan.created_at,
        "counts": {
            "create": 0,
            "update": 1,
            "delete": 0,
            "adopt": 0,
            "skip-locked": 0,
            "conflict": 0,
            "duplicate": 0,
            "unchanged": 0,
        },
        "notes": [],
        "actions": [
            {
                "action": "update",
                "sync_key": key,
                "title": "M1",
                "amount": "120.00",
                "currency": "USD",
                "due": "2026-12-01",
                "writes": True,
                "reason": "changed in source",
                "source": "autotask:77/1",
                "target": "kantata:900/5",
                "diff": [
                    {
                        "field": "amount",
                        "current": {"amount": "100", "currency": "USD"},
                        "desired": {"amount": "120", "currency": "USD"},
                    }
                ],
                "changes": [],
            }
        ],
    }
    assert plan.summary() == "1 update"
