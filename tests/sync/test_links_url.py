"""Which backend a link store target names, and what a bad one says."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing_milestones.errors import ConfigError
from billing_milestones.sync.store import parse_target, redact_url


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
