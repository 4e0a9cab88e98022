"""``enqueue_pairs`` (what ``milestones enqueue`` calls, and a Python caller may) queues all the pairs it is
given or none: a name the config does not know is a ConfigError before anything is queued, not after the
names before it were."""

from __future__ import annotations

import asyncio

import pytest

from billing_milestones.errors import ConfigError
from billing_milestones.workers import WorkerApp, enqueue_pairs

from .conftest import Deployment
from .test_worker import jobs


def test_an_unknown_name_queues_none_of_the_pairs(deployment: Deployment) -> None:
    asyncio.run(WorkerApp(deployment.settings()).prepare_async())  # the queue's tables exist
    with pytest.raises(ConfigError) as info:
        enqueue_pairs(deployment.settings(), ["erp", "ledger", "website"])
    assert info.value.key == "pairs.ledger"
    assert jobs(deployment.links) == []  # erp was not queued before the refusal


def test_a_name_given_twice_is_queued_once(deployment: Deployment) -> None:
    queued = enqueue_pairs(deployment.settings(), ["erp", "erp"])
    assert list(queued) == ["erp"] and queued["erp"] is not None
    assert [j["args"] for j in jobs(deployment.links)] == [{"pair": "erp"}]
