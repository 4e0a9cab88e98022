"""A served URL's parts read from its text are those httpx reads; anything else is left to httpx."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_milestones.sandbox import AutotaskSandbox, KantataSandbox, LoopbackServer
from billing_milestones.sandbox._served_url import simple_parts

_PATH_CHARS = "ABCxyz019._~!$&'()*+,;=:@/-%[] ?#"
_QUERY_CHARS = "ABCxyz019._~!$&'()*+,;=:@/?%-[] #\"<>{}é"
_HOSTS = st.sampled_from(["127.0.0.1", "localhost", "a-b.example", "LOCALHOST", "[::1]", "x_y", "0.0.0.0"])
_PORTS = st.sampled_from(["1", "80", "443", "8080", "65535", "65536", "99999", "0080", "39613"])


@st.composite
def _urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTP"]))
    path = "/" + draw(st.text(alphabet=_PATH_CHARS, max_size=20))
    text = f"{scheme}://{draw(_HOSTS)}:{draw(_PORTS)}{path}"
    if draw(st.booleans()):
        text += "?" + draw(st.text(alphabet=_QUERY_CHARS, max_size=25))
    return text


@st.composite
def _plain_urls(draw: st.DrawFn) -> str:
    """URLs of the characters the reader keeps (most of them read from their text), valid escapes too."""
    path = "/" + draw(st.text(alphabet="Az09._~!$&'()*+,;=:@/-", max_size=20))
    query = draw(st.lists(st.sampled_from(["a", "=", "&", "%2C", "%2c", "+", "?", "/", ":", "-", "9"]), max_size=12))
    return f"http://127.0.0.1:{draw(st.integers(1, 65535))}{path}?{''.join(query)}"


@settings(max_examples=1500, deadline=None)
@given(_urls() | _plain_urls())
def test_the_parts_are_what_httpx_reads_or_none(text: str) -> None:
    parts = simple_parts(text)
    if parts is None:
        return
    url = httpx.URL(text)
    assert parts == (url.scheme, url.netloc.decode(), url.path, url.query.decode())


@pytest.mark.parametrize(
    "text",
    [
        "http://127.0.0.1:39613/kantata/api/v1/billing_milestones?workspace_ids=1001&include=a%2Cb&page=1",
        "http://127.0.0.1:39613/autotask/ATServicesRest/V1.0/ContractMilestones/query",
        "http://localhost:8080/api/v1/workspaces/1001",
    ],
)
def test_the_urls_clients_send_on_loopback_are_read_from_their_text(text: str) -> None:
    url = httpx.URL(text)
    assert simple_parts(text) == (url.scheme, url.netloc.decode(), url.path, url.query.decode())


@pytest.mark.parametrize(
    "text",
    [
        "http://127.0.0.1:80/x",  # a default port: httpx leaves it out
        "http://[::1]:8080/x",
        "http://LOCALHOST:8080/x",
        "http://127.0.0.1:8080/a/../b",  # a dot segment: httpx removes it
        "http://127.0.0.1:8080/a%20b",  # an escape in the path: httpx decodes it
        "http://127.0.0.1:8080/x?a=%zz",
        "http://127.0.0.1:8080/x?a=b c",
        "http://127.0.0.1:70000/x",
        "http://127.0.0.1/x",
    ],
)
def test_what_httpx_would_change_or_refuse_is_left_to_httpx(text: str) -> None:
    assert simple_parts(text) is None


def test_a_served_request_builds_its_url_when_first_read_and_equals_the_parsed_one() -> None:
    sandbox = KantataSandbox()
    text = "http://127.0.0.1:39613/kantata/api/v1/billing_milestones?workspace_ids=1001&include=a%2Cb"
    headers = httpx.Headers({"Authorization": "Bearer t"})
    served = sandbox.parse_served("get", text, headers, b"", mount="/kantata")
    parsed = sandbox.parse_parts("get", httpx.URL(text), headers, b"", mount="/kantata", served=True)
    assert "url" not in vars(served)
    assert (served.path, served.query, served.origin, served.method) == (
        parsed.path,
        parsed.query,
        parsed.origin,
        parsed.method,
    )
    routed = served.with_params({"id": "7"})
    assert "url" not in vars(routed) and routed.params == {"id": "7"} and served.params == {}
    assert served.url == parsed.url and "url" in vars(served)
    assert served == parsed and routed == dataclasses.replace(parsed, params={"id": "7"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        served.url = parsed.url  # type: ignore[misc]
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        served.nothing  # type: ignore[attr-defined]  # noqa: B018


def test_a_url_only_httpx_can_read_is_parsed_at_once() -> None:
    sandbox = KantataSandbox()
    served = sandbox.parse_served("GET", "http://127.0.0.1:80/a%20b", httpx.Headers(), b"", mount="")
    assert vars(served)["url"] == httpx.URL("http://127.0.0.1:80/a%20b") and served.path == "/a b"


def test_an_answer_quoting_the_url_quotes_it_whole_over_a_socket() -> None:
    sandbox = AutotaskSandbox()
    headers = {"ApiIntegrationCode": sandbox.INTEGRATION_CODE, "UserName": sandbox.USERNAME, "Secret": sandbox.SECRET}
    with LoopbackServer(sandbox.asgi_app()) as server:
        url = f"{server.url}/ATServicesRest/V1.0/Nothing/here?x=1"
        answer = httpx.get(url, headers=headers)
    assert answer.status_code == 404
    assert answer.json() == {"Message": f"No HTTP resource was found that matches the request URI '{url}'."}
