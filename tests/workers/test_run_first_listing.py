"""A worker's pair run tells the target's view when the pair has never been linked: the empty Kantata workspace
of a first sync is listed by one workspace read (its milestones side-loaded); a later run lists it."""

from __future__ import annotations

from billing_milestones.workers import run_pair

from .conftest import Deployment


def _reads_before_writes(log: list[tuple[str, str]]) -> list[tuple[str, str]]:
    writes = [i for i, (method, _) in enumerate(log) if method != "GET"]
    return log[: writes[0]] if writes else log


def test_a_first_run_reads_the_empty_workspace_once_and_the_next_lists_it(deployment: Deployment) -> None:
    kantata, workspace = deployment.world.kantata, deployment.world.erp_workspace
    run_pair(deployment.settings(), "erp")
    first = [(e.method, e.path) for e in kantata.request_log]
    assert _reads_before_writes(first) == [("GET", f"/workspaces/{workspace}")]
    assert ("POST", "/billing_milestones") in first
    run_pair(deployment.settings(), "erp")
    again = [(e.method, e.path) for e in kantata.request_log[len(first) :]]
    assert again[0] == ("GET", "/billing_milestones")
