"""A base URL carrying ``user:password@`` is refused by name, before any request, on every client and in the
config, and no error shows the password: the URL is shown in reprs and logs, and httpx would have sent the
pair as Basic auth beside the platform's own credentials."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from billing_milestones import KantataClient, errors
from billing_milestones._http._core import check_base_url
from billing_milestones.sync.config import load_settings

from ._client_makers import CLIENTS

PASSWORD = "pw-Zq81xV"
URLS = [
    f"https://user:{PASSWORD}@api.example.com/v1",
    f"https://{PASSWORD}@api.example.com",
    f"http://user:{PASSWORD}@127.0.0.1:8080/",
]


def shows_no_password(exc: BaseException) -> None:
    for text in (str(exc), repr(exc), repr(vars(exc))):
        assert PASSWORD not in text
    assert "user name or password" in str(exc)


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("make", CLIENTS.values(), ids=CLIENTS.keys())
def test_every_client_refuses_a_base_url_with_credentials(make: Callable[..., Any], url: str) -> None:
    with pytest.raises((errors.ValidationError, errors.ConfigError)) as info:
        make(base_url=url)
    assert getattr(info.value, "field", None) == "base_url" or getattr(info.value, "key", None) == "base_url"
    shows_no_password(info.value)


@pytest.mark.parametrize("url", URLS)
def test_the_check_names_the_field_and_masks_the_url(url: str) -> None:
    with pytest.raises(errors.ValidationError) as info:
        check_base_url(url, field="base_url")
    assert info.value.field == "base_url"
    assert "***@" in str(info.value) and "***@" in str(info.value.value)
    shows_no_password(info.value)


@pytest.mark.parametrize("url", [f"ftp://user:{PASSWORD}@example.com/", f"https://user:{PASSWORD}@[::1"])
def test_other_refusals_mask_it_too(url: str) -> None:
    with pytest.raises(errors.ValidationError) as info:
        check_base_url(url, field="base_url")
    assert PASSWORD not in str(info.value) and PASSWORD not in repr(info.value.value)


@pytest.mark.parametrize("platform", ["kantata", "autotask", "crmcom"])
def test_the_config_refuses_it_from_the_environment(tmp_path: Path, platform: str) -> None:
    config = tmp_path / "milestones.toml"
    config.write_text("")
    env = {f"{platform.upper()}_BASE_URL": URLS[0]}
    with pytest.raises(errors.ConfigError) as info:
        load_settings(config, env=env)
    assert info.value.key == f"{platform}.base_url"
    shows_no_password(info.value)


def test_a_plain_base_url_is_still_taken() -> None:
    assert str(check_base_url("https://api.example.com/v1", field="base_url")) == "https://api.example.com/v1"
    with KantataClient("tok-123456", base_url="https://api.example.com/v1") as kantata:
        assert PASSWORD not in repr(kantata)
