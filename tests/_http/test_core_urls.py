"""Request URLs are parsed once per base and path and reused (an httpx.URL is immutable); the cache never
mixes two clients' bases, and a server-sent link to another host is refused every time it is sent."""

from __future__ import annotations

import httpx
import pytest

from billing_milestones import errors
from billing_milestones._http import ClientCore, RequestSpec


def core(base: str) -> ClientCore:
    return ClientCore(platform="p", base_url=httpx.URL(base), credentials=lambda: {"Authorization": "Bearer t"})


def test_a_path_is_parsed_once_and_reused() -> None:
    one = core("https://a.example/api/v1")
    spec = RequestSpec("GET", "things/7")
    first = one.url_for(spec)
    assert str(first) == "https://a.example/api/v1/things/7"
    assert one.url_for(RequestSpec("GET", "things/7")) is first  # the same parsed URL, not a new parse
    assert one.url_for(RequestSpec("GET", "/things/7")) == first


def test_each_base_gets_its_own_url() -> None:
    spec = RequestSpec("GET", "things/7")
    assert str(core("https://a.example/api/v1/").url_for(spec)) == "https://a.example/api/v1/things/7"
    assert str(core("https://b.example/v2").url_for(spec)) == "https://b.example/v2/things/7"
    assert str(
        core("https://a.example/api/v1").with_options(base_url=httpx.URL("https://c.example")).url_for(spec)
    ) == ("https://c.example/things/7")


def test_a_link_to_another_host_is_refused_every_time() -> None:
    one = core("https://a.example/api/v1")
    link = RequestSpec("GET", "https://evil.example/api/v1/things?page=2")
    for _ in range(2):
        with pytest.raises(errors.UntrustedHostError):
            one.url_for(link)
    same = RequestSpec("GET", "https://a.example/api/v1/things?page=2")
    assert one.url_for(same) is one.url_for(same)
    assert str(core("https://evil.example").url_for(link)) == "https://evil.example/api/v1/things?page=2"
