"""Kantata ids are positive integers: nothing else reaches a request path (issue 12, point 10)."""

from __future__ import annotations

import pytest

from billing_milestones import KantataClient, errors
from billing_milestones.sandbox import KantataSandbox


@pytest.mark.parametrize("bad", ["a/b", "-1", "../1001", "0", "1.5", " ", True, "١٢"])
def test_an_id_that_is_not_a_positive_integer_is_refused_before_sending(bad: object) -> None:
    sandbox = KantataSandbox()
    with KantataClient("tok-123456", http_client=sandbox.http_client()) as client:
        for call in (client.billing_milestones.get, client.billing_milestones.delete, client.workspaces.get):
            with pytest.raises(errors.ValidationError, match="positive integer"):
                call(bad)  # type: ignore[arg-type]
    assert sandbox.request_log == []


def test_digits_and_ints_are_the_same_id() -> None:
    sandbox = KantataSandbox()
    workspace = sandbox.add_workspace("W", currency="USD")
    with KantataClient("tok-123456", http_client=sandbox.http_client()) as client:
        assert client.workspaces.get(int(workspace)).id == client.workspaces.get(workspace).id == workspace
