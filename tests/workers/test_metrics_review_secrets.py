"""Review of the workers' secrets: a link store URL libpq cannot read is refused by ``milestones worker`` and
``milestones enqueue`` (and by :class:`WorkerApp`) by name, its password masked, before procrastinate's pool
is made. The pool was handed the URL and tried to connect for 30 s, logging libpq's message at every try
(``psycopg.pool`` warnings ``error connecting in 'pool-1': invalid percent-encoded token: "s3cret%zz"``): the
password, when it is the token libpq could not decode. The shared budgets refuse such a URL already
(test_budgets_review_secrets.py); the queue did not. Nothing here connects."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from billing_milestones.cli import EXIT_USAGE, app
from billing_milestones.errors import ConfigError
from billing_milestones.sync.config import load_settings
from billing_milestones.workers import WorkerApp

SECRET = "s3cret-queue-pw"
UNREADABLE = [
    f"postgresql://bm:{SECRET}%zz@127.0.0.1:1/bm",  # libpq quotes the token it cannot decode
    f"postgresql://bm@127.0.0.1:1/bm?password={SECRET}%zz",
    f"postgresql://bm:{SECRET}@127.0.0.1:1/bm?password={SECRET}%zz",
]
PAIR = '\n[pairs.erp]\nsource = "autotask:1"\ntarget = "kantata:2"\n'


def config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "milestones.toml"
    path.write_text(f'links = "{url}"\n{PAIR}')
    return path


@pytest.mark.parametrize("url", UNREADABLE)
def test_a_worker_app_refuses_an_unreadable_queue_url_by_name_without_its_password(
    tmp_path: Path, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConfigError) as refused:
        WorkerApp(load_settings(config(tmp_path, url), env={}))
    assert refused.value.key == "links" and "libpq" in str(refused.value)
    assert "invalid percent-encoded token" in str(refused.value)  # libpq's reason, kept
    assert SECRET not in str(refused.value) and SECRET not in repr(refused.value)
    assert SECRET not in caplog.text


@pytest.mark.parametrize("url", UNREADABLE)
@pytest.mark.parametrize("command", [["worker", "--burst"], ["enqueue", "--all"], ["enqueue", "--all", "--json"]])
def test_the_cli_refuses_an_unreadable_queue_url_at_once_without_its_password(
    tmp_path: Path, url: str, command: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    result = CliRunner().invoke(app, [*command, "--config", str(config(tmp_path, url))], env={"COLUMNS": "200"})
    assert result.exit_code == EXIT_USAGE, result.output
    assert "links: the queue's database postgresql://bm" in result.output
    assert SECRET not in result.output and "Traceback" not in result.output
    assert SECRET not in caplog.text  # psycopg.pool's warnings among them
