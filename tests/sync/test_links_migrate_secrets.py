"""No password of a ``postgresql://`` URL in what ``links migrate`` prints, whichever option named it and
whatever the server or libpq answered: a password with a character the URL should have percent-encoded (a
``%``, a space) is quoted back by libpq's own error, which the store's message passed on."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from billing_milestones.cli import EXIT_USAGE, app
from billing_milestones.sync import Link, LinkStore


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed once we leave: nobody listens there


@pytest.mark.parametrize("password", ["50%off", "se cret", "hunter2"])
@pytest.mark.parametrize("where", ["userinfo", "query"])
def test_links_migrate_prints_no_password(tmp_path: Path, password: str, where: str) -> None:
    port = closed_port()
    if where == "userinfo":
        url = f"postgresql://sync:{password}@127.0.0.1:{port}/links"
    else:
        url = f"postgresql://sync@127.0.0.1:{port}/links?password={password}"
    with LinkStore(tmp_path / "a.db") as store:
        store.put(Link("p", "k", "s", "t", "a", "b"))
    for args in (["--from", url, "--to", str(tmp_path / "b.db")], ["--from", str(tmp_path / "a.db"), "--to", url]):
        for as_json in ([], ["--json"]):
            result = CliRunner().invoke(app, ["links", "migrate", *args, *as_json], env={"COLUMNS": "200"})
            assert result.exit_code == EXIT_USAGE, result.output
            assert password not in result.output and f"127.0.0.1:{port}" in result.output
            if as_json:
                assert password not in json.loads(result.output)["error"]
