"""``milestones sync`` tells the target's view when a pair has never been linked: the empty Kantata workspace of
a first sync is then listed by one workspace read (its milestones side-loaded), and a later sync lists it."""

from __future__ import annotations

from pathlib import Path

from billing_milestones.demo import DemoWorld

from .conftest import Invoke


def _reads_before_writes(world: DemoWorld, start: int) -> list[tuple[str, str]]:
    log = [(e.method, e.path) for e in world.kantata.request_log[start:]]
    writes = [i for i, (method, _) in enumerate(log) if method != "GET"]
    return log[: writes[0]] if writes else log


def test_a_first_sync_reads_the_empty_workspace_once_and_the_next_lists_it(
    world: DemoWorld, env: dict[str, str], cfg: Path, invoke: Invoke
) -> None:
    workspace = world.erp_workspace
    assert not any(m["workspace_id"] == workspace for m in world.kantata.milestones.values())
    assert invoke("sync", "erp", "--config", str(cfg), "--yes", env=env).exit_code == 0
    assert _reads_before_writes(world, 0) == [("GET", f"/workspaces/{workspace}")]
    created = sum(1 for m in world.kantata.milestones.values() if m["workspace_id"] == workspace)
    assert created > 0
    start = len(world.kantata.request_log)
    assert invoke("sync", "erp", "--config", str(cfg), "--yes", env=env).exit_code == 0
    assert _reads_before_writes(world, start)[0] == ("GET", "/billing_milestones")
