from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from billing_milestones import Platform
from billing_milestones.errors import ConfigError
from billing_milestones.sync import ConflictPolicy
from billing_milestones.sync.config import load_settings, parse_endpoint

GOOD = """
links = "state/links.sqlite3"

[kantata]
base_url = "https://example.test/api/v1"

[autotask]
username = "api@example.com"
currency = "USD"

[crmcom.drafts.big]
account_id = "acc-1"

[pairs.a2k]
source = "autotask:77"
target = "kantata:900"
policy = "source-wins"
allow_drop = true
[pairs.a2k.triggers]
stage_to_story = { "st-1" = 41 }
due_dates = { "st-1" = 2026-12-01 }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "milestones.toml"
    path.write_text(text)
    return path


def test_file_plus_environment(tmp_path: Path) -> None:
    env = {"KANTATA_TOKEN": "tok-123456", "AUTOTASK_SECRET": "s3cr3t!!", "AUTOTASK_INTEGRATION_CODE": "CODE12345"}
    settings = load_settings(write(tmp_path, GOOD), env=env)
    assert settings.links == tmp_path.resolve() / "state/links.sqlite3"  # beside the config file, not the cwd
    assert settings.kantata.token is not None and settings.kantata.token.get_secret_value() == "tok-123456"
    assert "tok-123456" not in repr(settings)
    settings.require(Platform.KANTATA)
    settings.require(Platform.AUTOTASK)
    pair = settings.pair("a2k")
    assert pair.policy is ConflictPolicy.SOURCE_WINS and pair.allow_drop
    assert pair.triggers.stage_to_story == {"st-1": "41"}
    assert pair.triggers.due_dates == {"st-1": dt.date(2026, 12, 1)}
    assert pair.pair().id == "autotask:77->kantata:900"
    assert settings.crmcom.drafts["big"]["account_id"] == "acc-1"


def test_environment_overrides_plain_keys(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD), env={"KANTATA_BASE_URL": "http://127.0.0.1:9/api/v1"})
    assert settings.kantata.base_url == "http://127.0.0.1:9/api/v1"


def test_each_missing_secret_is_named_with_its_fix(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD), env={})
    with pytest.raises(ConfigError) as info:
        settings.require(Platform.AUTOTASK)
    assert "AUTOTASK_SECRET" in str(info.value) and "AUTOTASK_INTEGRATION_CODE" in str(info.value)
    assert "AUTOTASK_USERNAME" not in str(info.value)
    with pytest.raises(ConfigError, match="CRMCOM_API_KEY"):
        settings.require(Platform.CRMCOM)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[kantata]\ntoken = "oops"\n', "kantata.token"),
        ('[autotask]\nsecret = "oops"\n', "autotask.secret"),
        ('[kantata]\nbase = "x"\n', "kantata.base"),
        ("surprise = 1\n", "surprise"),
        ('[pairs.p]\nsource = "kantata:1"\n', "pairs.p.target"),
        ('[pairs.p]\nsource = "jira:1"\ntarget = "kantata:2"\n', "pairs.p.source"),
        ('[pairs.p]\nsource = "kantata:1"\ntarget = "autotask:2"\npolicy = "yolo"\n', "pairs.p.policy"),
        (
            '[pairs.p]\nsource = "kantata:1"\ntarget = "autotask:2"\n[pairs.p.triggers]\nfallback_due = "soon"\n',
            "pairs.p.triggers.fallback_due",
        ),
        (
            '[pairs.p]\nsource = "kantata:1"\ntarget = "autotask:2"\n[pairs.p.triggers]\ndue_dates = "2027-01-01"\n',
            "pairs.p.triggers.due_dates",
        ),
        (
            '[pairs.p]\nsource = "kantata:1"\ntarget = "autotask:2"\n[pairs.p.triggers]\nstage_to_story = { s = [] }\n',
            "pairs.p.triggers.stage_to_story.s",
        ),
        ('[crmcom]\napi = "graphql"\n', "crmcom.api"),
        ("[kantata\n", "config"),
    ],
)
def test_invalid_config_names_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text), env={})
    assert info.value.key == key
    assert key.split(".")[-1] in str(info.value)


def test_secret_in_file_points_to_the_environment_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="KANTATA_TOKEN"):
        load_settings(write(tmp_path, '[kantata]\ntoken = "oops"\n'), env={})


def test_missing_file_and_unknown_pair(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", env={})
    with pytest.raises(ConfigError, match="known: a2k"):
        load_settings(write(tmp_path, GOOD), env={}).pair("b")


def test_parse_endpoint() -> None:
    assert parse_endpoint("Kantata: 900 ", key="x") == (Platform.KANTATA, "900")
    with pytest.raises(ConfigError):
        parse_endpoint("kantata", key="x")


def test_links_resolve_against_the_config_files_folder_not_the_current_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store looked up in the wrong folder is a lost store; a lost store must not mean duplicates."""
    (tmp_path / "conf").mkdir()
    (tmp_path / "elsewhere").mkdir()
    config = tmp_path / "conf" / "milestones.toml"
    config.write_text('links = "state.sqlite3"\n')
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert load_settings(config, env={}).links == (tmp_path / "conf" / "state.sqlite3").resolve()
    config.write_text("")  # no links key: the default file name, still beside the config
    assert load_settings(config, env={}).links == (tmp_path / "conf" / "milestones-links.sqlite3").resolve()
    absolute = tmp_path / "abs.sqlite3"
    config.write_text(f'links = "{absolute}"\n')
    assert load_settings(config, env={}).links == absolute
    # The environment's path is the caller's own, as the shell resolves it.
    assert load_settings(config, env={"MILESTONES_LINKS": "mine.sqlite3"}).links == Path("mine.sqlite3")


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("max_delete_share = 1.5", "pairs.p.max_delete_share"),
        ("max_delete_share = -0.1", "pairs.p.max_delete_share"),
        ('max_delete_share = "half"', "pairs.p.max_delete_share"),
        ("lease_wait = -1", "pairs.p.lease_wait"),
        ("lease_wait = true", "pairs.p.lease_wait"),
        ('fix_duplicates = "yes"', "pairs.p.fix_duplicates"),
        ("allow_mass_delete = 1", "pairs.p.allow_mass_delete"),
        ('links = ""', "links"),
    ],
)
def test_safety_settings_are_checked_by_name(tmp_path: Path, line: str, key: str) -> None:
    pair = '[pairs.p]\nsource = "autotask:1"\ntarget = "kantata:2"\n'
    text = f"{line}\n{pair}" if key == "links" else f"{pair}{line}\n"
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text), env={})
    assert info.value.key == key


def test_safety_settings_reach_the_pair(tmp_path: Path) -> None:
    text = (
        '[pairs.p]\nsource = "autotask:1"\ntarget = "kantata:2"\nfix_duplicates = true\n'
        "allow_mass_delete = true\nmax_delete_share = 0.25\nlease_wait = 30\n"
    )
    spec = load_settings(write(tmp_path, text), env={}).pair("p")
    pair = spec.pair()
    assert (pair.fix_duplicates, pair.allow_mass_delete, pair.max_delete_share) == (True, True, 0.25)
    assert spec.lease_wait == 30.0
    assert (pair.source_name, pair.target_name) == ("1", "2") and pair.identity == pair.id


@pytest.mark.parametrize(
    ("text", "env", "key", "hint"),
    [
        ('[kantata]\nbase_url = "not a url"\n', {}, "kantata.base_url", "absolute http"),
        ("", {"KANTATA_BASE_URL": "not a url"}, "kantata.base_url", "from KANTATA_BASE_URL"),
        ('[crmcom]\nbase_url = "ftp://x.example"\n', {}, "crmcom.base_url", "absolute http"),
        ('[autotask]\ncurrency = "dollars"\n', {}, "autotask.currency", "not an ISO 4217"),
        ("", {"AUTOTASK_CURRENCY": "dollars"}, "autotask.currency", "from AUTOTASK_CURRENCY"),
    ],
)
def test_urls_and_currencies_are_checked_where_given(
    tmp_path: Path, text: str, env: dict[str, str], key: str, hint: str
) -> None:
    with pytest.raises(ConfigError, match=hint) as info:
        load_settings(write(tmp_path, text), env=env)
    assert info.value.key == key
