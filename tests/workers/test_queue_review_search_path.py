"""Deployments in their own schemas of one database (docs/scale.md) have their own queue, whatever else their
URL's search_path names after their schema."""

from __future__ import annotations

import asyncio

from billing_milestones.sync.config import load_settings
from billing_milestones.workers import WorkerApp, enqueue_pairs

from .._postgres import PostgresServer, fresh_database
from .conftest import Deployment
from .test_worker import jobs


def test_a_deployment_whose_path_reaches_another_schema_makes_its_own_queue(
    deployment: Deployment, postgres_server: PostgresServer
) -> None:
    """The queue's tables were looked for along the whole search_path: a deployment whose path went on to
    another deployment's schema (``client_b,public``, for an extension in public) found that one's queue,
    made none of its own, and queued its pairs there, to be run by the other deployment's workers as pairs
    of the other config that bear the same names."""
    asyncio.run(WorkerApp(deployment.settings()).prepare_async())  # the first deployment's queue
    first = deployment.links.rsplit("%3D", 1)[1]
    second = fresh_database(postgres_server).rsplit("%3D", 1)[1]
    url = f"{postgres_server.url()}?options=-csearch_path%3D{second}%2C{first}"
    second_settings = load_settings(deployment.config, env={**deployment.env, "BILLING_MILESTONES_LINKS": url})
    asyncio.run(WorkerApp(second_settings).prepare_async())
    queued = enqueue_pairs(second_settings, ["erp"])
    assert queued["erp"] is not None
    assert jobs(deployment.links) == []  # nothing in the first deployment's queue
    assert [job["args"] for job in jobs(f"{postgres_server.url()}?options=-csearch_path%3D{second}")] == [
        {"pair": "erp"}
    ]
