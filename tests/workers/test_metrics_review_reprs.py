"""Review of the reprs a worker holds: none shows the link store's password.

The link store URL is the one credential the settings keep outside a SecretStr, and three dataclass reprs
printed it whole: ``Settings`` (``links='postgresql://u:PASSWORD@h/db'``), the parsed ``StoreTarget`` and the
worker's ``Liveness`` (its conninfo, ``password=PASSWORD`` decoded from the URL). A repr reaches a debug line,
a debugger, and the local variables an error tracker captures with a worker's traceback. Nothing connects."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing_milestones.sync.config import Settings, load_settings
from billing_milestones.sync.store import parse_target
from billing_milestones.workers import WorkerApp

SECRET = "pw-repr-9c1e"
#: Each URL and the forms of its password that must not be shown (percent-encoded and decoded).
URLS = {
    f"postgresql://bm:{SECRET}@127.0.0.1:1/bm": [SECRET],
    f"postgresql://bm:{SECRET}%40x@127.0.0.1:1/bm": [SECRET, f"{SECRET}@x"],
    f"postgresql://bm@127.0.0.1:1/bm?password={SECRET}&sslmode=disable": [SECRET],
    f"postgres://bm:{SECRET}@127.0.0.1:1/bm?password={SECRET}": [SECRET],
}


def settings_of(tmp_path: Path, url: str) -> Settings:
    config = tmp_path / "milestones.toml"
    config.write_text(f'links = "{url}"\n\n[pairs.erp]\nsource = "autotask:1"\ntarget = "kantata:2"\n')
    return load_settings(config, env={})


@pytest.mark.parametrize("url", URLS)
def test_the_settings_and_the_parsed_target_show_the_url_without_its_password(tmp_path: Path, url: str) -> None:
    settings = settings_of(tmp_path, url)
    target = parse_target(url)
    for shown in (repr(settings), str(settings), repr(target), str(target)):
        assert not [form for form in URLS[url] if form in shown], shown
        assert "bm:***@127.0.0.1:1/bm" in shown or "password=***" in shown
    assert "Settings(path=" in repr(settings) and "pairs={'erp'" in repr(settings)  # the rest as before
    assert target.location == url and settings.links == url  # kept whole, for the connections


@pytest.mark.parametrize("url", URLS)
def test_nothing_a_worker_app_holds_shows_the_password(tmp_path: Path, url: str) -> None:
    worker = WorkerApp(settings_of(tmp_path, url))
    # Its objects (a str attribute is the URL itself, which the connections need): the settings, the liveness...
    shown = {name: repr(value) for name, value in vars(worker).items() if not isinstance(value, str)}
    shown["liveness"] = repr(worker.new_liveness())
    assert not {name: text for name, text in shown.items() if any(form in text for form in URLS[url])}
    assert shown["liveness"].startswith("Liveness(tag='bm-worker-")


@pytest.mark.parametrize(
    "links",
    [
        "links.sqlite3",
        "sqlite:////var/lib/links.db",
        f"host=db password={SECRET}",  # a conninfo, refused as a target: not shown at all
        f"postgresql://bm:{SECRET}@[::1/bm",  # urllib cannot split it: not shown at all
    ],
)
def test_a_target_that_is_no_url_shows_as_it_is_or_not_at_all(links: str) -> None:
    from billing_milestones.sync.config import _shown_links

    shown = _shown_links(links)
    assert SECRET not in str(shown)
    assert shown == links if SECRET not in links else "not shown" in str(shown)
