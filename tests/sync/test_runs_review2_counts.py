"""A run stopped part way counts the writes it did: a batch of creates answered short, on both backends.

A platform that stores a batch and answers with fewer milestones than it was sent (a proxy cutting the
reply, a server listing only the first page of what it made) raised after the answered ones were linked,
but before they were recorded in the run's result: the history said ``created 0`` for milestones that were
on the target and linked, where docs/scale.md says it "adds up to what is on the target".
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from billing_milestones import Milestone
from billing_milestones.sync import LinkStore

from .test_apply_runs import seeded, sync


def test_a_batch_answered_short_counts_the_creates_it_answered(store_url: str) -> None:
    source, target, pair = seeded(3)
    create = target.create

    def short_reply(container_id: str, milestones: Sequence[Milestone]) -> list[Milestone]:
        return create(container_id, milestones)[:-1]  # all three stored, two answered

    target.create = short_reply  # type: ignore[method-assign]
    with LinkStore(store_url) as store:
        with pytest.raises(ValueError, match="shorter"):
            sync(pair, source, target, store)
        (run,) = store.runs(pair.identity)
        linked = len(list(store))
    assert linked == 2 and len(target.data["900"]) == 3
    assert (run.open, run.ok, run.created) == (False, False, 2)
    assert run.error is not None and run.error.startswith("ValueError: ")
