"""How a user spells the link store: every spelling either names the one file meant or is refused by name.

A spelling read as some other file opens a new, empty store there, and a sync from an empty store creates
every milestone again; so does SQLite's ``:memory:``, which keeps nothing past the process.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from billing_milestones.errors import ConfigError
from billing_milestones.sync._store_config import links_target
from billing_milestones.sync.config import load_settings
from billing_milestones.sync.store import parse_target


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("sqlite://data/links.db", "takes no host"),  # read as data/links.db; often /data/links.db was meant
        ("sqlite://links.db", "takes no host"),
        ("sqlite://:memory:", "takes no host"),
        ("sqlite:///links.db?mode=ro", "no query"),  # was a file named 'links.db?mode=ro'
        ("sqlite:///links.db#main", "no query"),
        ("sqlite:///my%20links.db", "%-escape"),  # was a file named 'my%20links.db', not 'my links.db'
        ("sqlite:////var/lib/m%C3%A9/links.db", "%-escape"),
    ],
)
def test_a_sqlite_url_naming_another_file_than_it_reads_is_refused(text: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words) as info:
        parse_target(text, key="links")
    assert info.value.key == "links"


@pytest.mark.parametrize(
    ("text", "location"),
    [
        ("sqlite:///my links.db", "my links.db"),  # a space needs no escape
        ("my%20links.db", "my%20links.db"),  # a plain path is a file's name as it is
        ("links.db?v=1", "links.db?v=1"),
        ("sqlite:///50%off.db", "50%off.db"),  # a % that escapes nothing
        ("sqlite:////var/lib/links.db", "/var/lib/links.db"),
    ],
)
def test_plain_paths_and_plain_sqlite_urls_are_still_read_as_written(text: str, location: str) -> None:
    assert (parse_target(text).kind, parse_target(text).location) == ("sqlite", location)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("postgresql+psycopg://u@h/db", r"write postgresql://, without the driver"),
        ("sqlite+pysqlite:///x.db", r"write sqlite://, without the driver"),
        ("redis://h", r"scheme 'redis'; use"),
    ],
)
def test_a_driver_in_the_scheme_is_refused_with_the_spelling_to_use(text: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        parse_target(text, key="links")


@pytest.mark.parametrize("raw", [":memory:", "sqlite:///:memory:", " :memory: "])
def test_an_in_memory_store_is_refused_in_the_file(tmp_path: Path, raw: str) -> None:
    """It kept every link for one process only: each run then created every milestone again."""
    config = tmp_path / "milestones.toml"
    config.write_text(f'links = "{raw}"\n')
    with pytest.raises(ConfigError, match=":memory: keeps no link") as info:
        load_settings(config, env={})
    assert info.value.key == "links"


@pytest.mark.parametrize("var", ["BILLING_MILESTONES_LINKS", "MILESTONES_LINKS"])
def test_an_in_memory_store_is_refused_in_the_environment_naming_the_variable(var: str) -> None:
    with pytest.raises(ConfigError, match=":memory: keeps no link") as info:
        links_target({}, None, {var: "sqlite:///:memory:"})
    assert info.value.key == var


@pytest.mark.parametrize("raw", ["~/links.db", "sqlite:///~/links.db"])
def test_a_home_folder_path_is_the_same_file_from_the_file_and_the_environment(tmp_path: Path, raw: str) -> None:
    """A systemd ``Environment=`` or a container's env is no shell: its ``~`` was a folder named ``~`` in
    the folder the command ran in, while the same text in milestones.toml was the home folder."""
    config = tmp_path / "milestones.toml"
    from_file = links_target({"links": raw}, config, {})
    from_env = links_target({}, config, {"BILLING_MILESTONES_LINKS": raw})
    assert from_env == from_file == Path.home() / "links.db"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://h?dbname=links",
        "postgresql://u@h:5432/?dbname=links&sslmode=require",
        "postgresql://?host=/var/run/postgresql&dbname=links",
        "postgres://?service=links",
    ],
)
def test_a_database_named_in_the_query_is_a_postgresql_target(url: str) -> None:
    """libpq reads ``dbname=`` (and a service's file) from the query as from the path: refused before."""
    assert (parse_target(url).kind, parse_target(url).location) == ("postgresql", url)


@pytest.mark.parametrize("url", ["postgresql://h", "postgresql://u:pw@h/?dbname=", "postgresql://h/?sslmode=require"])
def test_a_postgresql_url_naming_no_database_is_still_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="names its database") as info:
        parse_target(url, key="links")
    assert "pw" not in str(info.value)


@pytest.mark.parametrize("var", ["BILLING_MILESTONES_LINKS", "MILESTONES_LINKS"])
def test_a_links_variable_set_but_empty_is_refused_not_read_as_unset(tmp_path: Path, var: str) -> None:
    """A secret or template that rendered nothing fell back to the file's store (by default a new SQLite file
    beside it): a run there created every milestone again. As ``links = ""`` in the file is refused."""
    config = tmp_path / "milestones.toml"
    config.write_text('links = "postgresql://sync@db/links"\n')
    with pytest.raises(ConfigError, match="set but empty") as info:
        load_settings(config, env={var: ""})
    assert info.value.key == var
    assert load_settings(config, env={}).links == "postgresql://sync@db/links"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql:///links?host=/run/postgresql", "postgresql:///links?host=%2Frun%2Fpostgresql"),
        (
            "postgresql://?host=/run/pg&dbname=links&password=s3cret",
            "postgresql://?host=%2Frun%2Fpg&dbname=links&password=***",
        ),
        ("postgresql://u:s3cret@h:5432/db#x", "postgresql://u:***@h:5432/db#x"),
    ],
)
def test_a_url_without_a_host_is_shown_as_a_url_it_still_is(url: str, shown: str) -> None:
    """Shown as ``postgresql:/links?...`` (urlunsplit drops an empty host's ``//``): no libpq reads that, and
    given back as a target it named a SQLite file of that name."""
    display = parse_target(url).display
    assert display == shown and "s3cret" not in display
    assert parse_target(display).kind == "postgresql"


@pytest.mark.parametrize("text", ["sqlite://u:s3cret@h/links.db", "sqlite:///links.db?password=s3cret"])
def test_a_refused_sqlite_url_never_shows_a_password(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_target(text, key="links")
    assert "s3cret" not in str(info.value) and "***" in str(info.value)


@pytest.mark.skipif(os.name == "nt", reason="a drive path is a path there")
@pytest.mark.parametrize(
    "raw",
    [
        "C:\\\\milestones\\\\links.sqlite3",
        "D:/milestones/links.sqlite3",
        "sqlite:///C:/m/links.db",
        "\\\\\\\\srv\\\\m.db",
    ],
)
def test_a_windows_path_is_refused_where_it_would_be_a_file_beside_the_config(tmp_path: Path, raw: str) -> None:
    """A config carried over from Windows: ``C:\\milestones\\links.sqlite3`` was one file of that name, made
    beside the config, a new store."""
    config = tmp_path / "milestones.toml"
    config.write_text(f'links = "{raw}"\n')
    with pytest.raises(ConfigError, match="is a Windows path") as info:
        load_settings(config, env={})
    assert info.value.key == "links"
    with pytest.raises(ConfigError, match="is a Windows path") as env:
        links_target({}, config, {"BILLING_MILESTONES_LINKS": raw.replace("\\\\", "\\")})
    assert env.value.key == "BILLING_MILESTONES_LINKS"


@pytest.mark.parametrize("text", ["sqlite:links.db", "SQLite:/var/lib/links.db", "postgresql:links", "postgres:/db"])
def test_a_scheme_without_its_slashes_is_refused_not_read_as_a_file_of_that_name(text: str) -> None:
    """``sqlite:links.db`` was a file named so beside the config: a new store."""
    with pytest.raises(ConfigError, match="without :// is read as a file path") as info:
        parse_target(text, key="links")
    assert info.value.key == "links"


@pytest.mark.parametrize("path", ["sqlite-links.db", "data/sqlite:links.db", "postgres.db", "sqlite"])
def test_a_file_whose_name_merely_starts_like_a_scheme_is_still_a_file(path: str) -> None:
    assert parse_target(path).location == path


@pytest.mark.parametrize("value", ['"links.db"', "'/data/links.db'", '"postgresql://sync@db/links"'])
def test_a_quoted_links_variable_is_refused(value: str) -> None:
    """An env file keeps its quotes: ``"links.db"`` was a new store in a file named with them."""
    with pytest.raises(ConfigError, match="in quotes") as info:
        links_target({}, None, {"BILLING_MILESTONES_LINKS": value})
    assert info.value.key == "BILLING_MILESTONES_LINKS" and "postgresql" not in str(info.value)


def test_a_path_holding_a_quote_inside_is_still_a_path() -> None:
    assert links_target({}, None, {"BILLING_MILESTONES_LINKS": "it's.db"}) == Path("it's.db")
