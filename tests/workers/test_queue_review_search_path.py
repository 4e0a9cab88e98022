"""Deployments in their own schemas of one database (docs/scale.md) have their own queue, whatever else their
URL's search_path names after their schema."""

from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner

from billing_milestones.cli import EXIT_USAGE, app
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


@pytest.mark.parametrize("command", [["enqueue", "erp"], ["worker", "--burst"], ["runs"]])
def test_a_search_path_naming_no_schema_is_said_so_by_every_command(
    deployment: Deployment, postgres_server: PostgresServer, command: list[str]
) -> None:
    """The queue's commands said "cannot be reached ...; check that the server is up", of a server that
    answered, and ``runs`` gave a traceback: the schema the URL names (docs/scale.md's ``client_a``) is missing."""
    url = f"{postgres_server.url()}?options=-csearch_path%3Dclient_not_made"
    env = {"COLUMNS": "200", **deployment.env, "BILLING_MILESTONES_LINKS": url}
    result = CliRunner().invoke(app, [*command, "--config", str(deployment.config)], env=env)
    assert result.exit_code == EXIT_USAGE, result.output
    assert "no schema its search_path names exists" in result.output and "cannot be reached" not in result.output
