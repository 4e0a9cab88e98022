"""The workspace a Kantata listing side-loads is trusted only as the workspace asked for: one whose own id is
another's (a proxy or server mixing up its map) refuses the page, as a workspace GET answering another does,
so its currency never prices a milestone and its id never becomes a create's ``workspace_id``."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from billing_milestones import errors
from billing_milestones.kantata import KantataClient
from billing_milestones.model import Milestone
from billing_milestones.money import Money
from billing_milestones.sandbox.kantata import KantataSandbox


def swapping(asked: str, other: str) -> Any:
    """A response hook: the listing's side-loaded workspace ``asked`` carries the id of ``other``."""

    def swap(response: httpx.Response) -> None:
        if response.request.method == "GET" and response.request.url.path.endswith("/billing_milestones"):
            response.read()
            body = json.loads(response.content)
            if asked in body.get("workspaces", {}):
                body["workspaces"][asked]["id"] = other
            response._content = json.dumps(body).encode()

    return swap


def in_workspace(sandbox: KantataSandbox, workspace_id: str) -> int:
    return sum(1 for m in sandbox.milestones.values() if str(m["workspace_id"]) == workspace_id)


def test_a_side_loaded_workspace_under_another_id_is_refused_and_nothing_is_written_elsewhere() -> None:
    sandbox = KantataSandbox()
    asked = sandbox.seed_demo()["workspaces"]["USD"]
    other = str(sandbox.add_workspace("Another customer", currency="USD"))
    hooks = {"response": [swapping(asked, other)]}
    with KantataClient("tok", http_client=sandbox.http_client(event_hooks=hooks)) as client:
        with pytest.raises(errors.APIResponseValidationError, match=f"{asked}"):
            list(client.milestones.list(asked))
        [made] = client.milestones.create(asked, [Milestone(title="New", amount=Money("10.00", "USD"))])
    assert made.key is not None and made.key.container_id == asked
    assert in_workspace(sandbox, other) == 0


def moving_one(asked: str, other: str) -> Any:
    """A response hook: the listing of ``asked`` carries one milestone of ``other`` (a filter ignored)."""

    def move(response: httpx.Response) -> None:
        if response.request.method == "GET" and response.request.url.path.endswith("/billing_milestones"):
            response.read()
            body = json.loads(response.content)
            first = next(iter(body.get("billing_milestones", {}).values()), None)
            if first is not None and str(first["workspace_id"]) == asked:
                first["workspace_id"] = other
            response._content = json.dumps(body).encode()

    return move


@pytest.mark.parametrize("side_load", [True, False])
def test_a_listing_holding_another_workspaces_milestone_is_refused_naming_it(side_load: bool) -> None:
    """As an Autotask contract query answering another contract's milestone: planned as this workspace's
    own, it could be adopted by an exact match and then updated or deleted in another customer's workspace."""
    sandbox = KantataSandbox()
    asked = sandbox.seed_demo()["workspaces"]["USD"]
    other = str(sandbox.add_workspace("Another customer", currency="USD"))
    hooks: list[Any] = [moving_one(asked, other)]
    if not side_load:
        hooks.insert(0, _without_side_load)
    client = KantataClient("tok", http_client=sandbox.http_client(event_hooks={"response": hooks}))
    with client, pytest.raises(errors.APIResponseValidationError, match=f"workspace {other}"):
        list(client.milestones.list(asked))


def _without_side_load(response: httpx.Response) -> None:
    if response.request.method == "GET" and response.request.url.path.endswith("/billing_milestones"):
        response.read()
        body = json.loads(response.content)
        body.pop("workspaces", None)
        response._content = json.dumps(body).encode()
