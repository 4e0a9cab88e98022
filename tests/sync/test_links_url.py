"""Which backend a link store target names, and what a bad one says."""

from __future__ import annotations

from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from billing_milestones.errors import ConfigError
from billing_milestones.sync.store import parse_target, redact_url, with_keepalives
from billing_milestones.sync.store._url import KEEPALIVES


@pytest.mark.parametrize(
    ("text", "kind", "location"),
    [
        ("links.sqlite3", "sqlite", "links.sqlite3"),
        ("/var/lib/links.sqlite3", "sqlite", "/var/lib/links.sqlite3"),
        ("sqlite:///links.sqlite3", "sqlite", "links.sqlite3"),
        ("sqlite:////var/lib/links.sqlite3", "sqlite", "/var/lib/links.sqlite3"),
        ("sqlite:///:memory:", "sqlite", ":memory:"),
        ("  links.db  ", "sqlite", "links.db"),
        ("postgresql://u@h:5432/db", "postgresql", "postgresql://u@h:5432/db"),
        ("postgres://u@h/db", "postgresql", "postgres://u@h/db"),
        ("POSTGRESQL://u@h/db", "postgresql", "POSTGRESQL://u@h/db"),
    ],
)
def test_targets_name_their_backend(text: str, kind: str, location: str) -> None:
    target = parse_target(text)
    assert (target.kind, target.location) == (kind, location)


def test_a_path_object_is_a_sqlite_file(tmp_path: Path) -> None:
    assert parse_target(tmp_path / "x.db").location == str(tmp_path / "x.db")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "expected a file path"),
        ("   ", "expected a file path"),
        ("mysql://h/db", "unknown link store scheme 'mysql'"),
        ("sqlite:///", "needs a file path"),
        ("postgresql://u:pw@h:5432/", "names its database"),
    ],
)
def test_bad_targets_are_config_errors_naming_the_key(text: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words) as info:
        parse_target(text, key="links")
    assert info.value.key == "links" and "pw@" not in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "host=db dbname=links password=s3cret",
        "dbname=links user=bm password='s3cret with \\' quote'",
        "  PASSWORD = s3cret host=db",
        "service=links password=s3cret",
    ],
)
def test_a_keyword_value_string_is_refused_without_its_password(text: str) -> None:
    """libpq's other form is no target of ours: read as a SQLite path, every error echoed it whole, password and
    all, and a store would be made as a file of that name."""
    with pytest.raises(ConfigError, match="keyword/value string") as info:
        parse_target(text, key="--from")
    assert info.value.key == "--from" and "s3cret" not in str(info.value) and "***" in str(info.value)


@pytest.mark.parametrize("path", ["data/host=1.db", "links=2.sqlite3", "hosts.db"])
def test_a_path_holding_an_equals_sign_is_still_a_file(path: str) -> None:
    assert (parse_target(path).kind, parse_target(path).location) == ("sqlite", path)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:secret@h:5432/db", "postgresql://u:***@h:5432/db"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("postgresql://h/db?password=secret&sslmode=require", "postgresql://h/db?password=***&sslmode=require"),
    ],
)
def test_passwords_never_show(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert "secret" not in parse_target(url).display


def test_a_postgresql_url_gets_tcp_keepalives_it_does_not_set() -> None:
    params = conninfo_to_dict(with_keepalives("postgresql://u:s3cret@h:5433/db?options=-csearch_path%3Dx"))
    assert {key: params[key] for key in KEEPALIVES} == KEEPALIVES
    assert KEEPALIVES["keepalives"] == "1" and int(KEEPALIVES["tcp_user_timeout"]) > 0
    assert (params["user"], params["password"], params["host"], params["port"], params["dbname"]) == (
        "u",
        "s3cret",
        "h",
        "5433",
        "db",
    )
    assert params["options"] == "-csearch_path=x"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://h/db?keepalives_idle=5&tcp_user_timeout=0",
        "host=h dbname=db keepalives_idle=5 tcp_user_timeout=0",
    ],
)
def test_a_keepalive_the_url_sets_wins(url: str) -> None:
    params = conninfo_to_dict(with_keepalives(url))
    assert (params["keepalives_idle"], params["tcp_user_timeout"]) == ("5", "0")
    assert params["keepalives_interval"] == KEEPALIVES["keepalives_interval"]  # the others still added


def test_keepalives_turned_off_by_the_url_stay_off() -> None:
    assert conninfo_to_dict(with_keepalives("postgresql://h/db?keepalives=0"))["keepalives"] == "0"


def test_a_service_keeps_its_own_settings_and_an_unreadable_url_is_left_to_the_connect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert with_keepalives("postgresql:///db?service=billing") == "postgresql:///db?service=billing"
    assert with_keepalives("postgresql://h/db?no_such_option=1") == "postgresql://h/db?no_such_option=1"
    monkeypatch.setenv("PGSERVICE", "billing")
    assert with_keepalives("postgresql://h/db") == "postgresql://h/db"
