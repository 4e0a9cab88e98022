"""``milestones sync`` whose plan has nothing to write still refreshes the links of unchanged milestones whose
fingerprints moved, as a worker's run does.

An Autotask description edit is a source change Kantata does not hold (``allow_drop``): the plan is in step,
nothing to write. The CLI used to record that run without applying it, so the link kept the old source
fingerprint, and the next edit on the Kantata side read as both sides changed: a conflict for a person,
where a worker's run of the same pair restores the source.
"""

from __future__ import annotations

import json
from pathlib import Path

from billing_milestones.demo import DemoWorld

from .conftest import Invoke


def _erp_source(world: DemoWorld) -> dict[str, object]:
    return next(m for m in world.autotask.milestones.values() if m["contractID"] == world.contract_id)


def test_a_sync_with_nothing_to_write_refreshes_moved_links_so_a_target_edit_is_restored_not_a_conflict(
    world: DemoWorld, env: dict[str, str], cfg: Path, tmp_path: Path, invoke: Invoke
) -> None:
    assert invoke("sync", "erp", "--config", str(cfg), "--yes", env=env).exit_code == 0
    source = _erp_source(world)
    source["description"] = "edited in Autotask; Kantata holds no description"
    nothing = invoke("sync", "erp", "--config", str(cfg), "--yes", "--json", env=env)
    assert nothing.exit_code == 0, nothing.output
    assert json.loads(nothing.output)["plan"]["counts"].get("update", 0) == 0  # in step: nothing to write
    target = next(m for m in world.kantata.milestones.values() if m["title"] == source["title"])
    target["title"] = f"{source['title']} (renamed in Kantata)"
    plan = invoke("plan", "erp", "--config", str(cfg), "--json", env=env)
    actions = json.loads(plan.output)["actions"]
    (renamed,) = [a for a in actions if a["action"] != "unchanged"]
    assert (renamed["action"], renamed["reason"]) == ("update", "target edited outside the sync; restoring the source")
