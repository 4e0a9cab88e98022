"""The emulator base: routing, request parsing, the log, and the in-process transport (sync and async)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from billing_milestones.sandbox import Emulator, FaultPlan, Router, SandboxRequest, SandboxTransport, json_response


class NotesEmulator(Emulator):
    """A tiny platform: notes with exact amounts under /API/v2 (matched case-insensitively)."""

    platform = "notes"
    base_path = "/api/v2"
    base_path_case_insensitive = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.notes: dict[str, dict[str, Any]] = {}
        self.seen: list[SandboxRequest] = []
        self.router = Router()
        self.router.add("GET", "/notes", self._list)
        self.router.add("POST", "/notes", self._create)
        self.router.add("GET", "/notes/{note_id}", self._get)

    def _list(self, request: SandboxRequest) -> httpx.Response:
        return json_response(200, {"notes": list(self.notes.values()), "next": f"{request.origin}/api/v2/notes?p=2"})

    def _create(self, request: SandboxRequest) -> httpx.Response:
        body = request.json()
        note = {"id": str(len(self.notes) + 1), "amount": body["amount"]}
        self.notes[note["id"]] = note
        return json_response(201, note)

    def _get(self, request: SandboxRequest) -> httpx.Response:
        note = self.notes.get(request.params["note_id"])
        return json_response(200, note) if note else json_response(404, {"message": "no such note"})

    def handle(self, request: SandboxRequest) -> httpx.Response:
        self.seen.append(request)
        return self.router.dispatch(
            request,
            not_found=lambda r: json_response(404, {"message": f"no route {r.path}"}),
            not_allowed=lambda r: json_response(405, {"message": f"{r.method} not allowed"}),
        )


# -- router ----------------------------------------------------------------------------------------------------


def test_router_templates_and_methods() -> None:
    router = Router()
    router.add("GET", "/items/{id}/parts/{part}", lambda r: json_response(200, dict(r.params)))
    router.add("DELETE", "/items/{id}", lambda r: json_response(204))
    found = router.match("GET", "/items/5/parts/x/")
    assert not isinstance(found, str) and found is not None
    assert found[1] == {"id": "5", "part": "x"}
    assert router.match("get", "/items/5/parts/x") is not None
    assert router.match("GET", "/items/5") == "405"  # the path exists for another method
    assert router.match("GET", "/nothing") is None
    assert router.match("GET", "/items/5/parts/x/y") is None
    assert router.match("GET", "/ITEMS/5/parts/x") is None
    assert Router(case_insensitive=True).match("GET", "/x") is None
    ci = Router(case_insensitive=True)
    ci.add("GET", "/Items/{id}", lambda r: json_response(200))
    assert ci.match("GET", "/items/1") is not None


def test_json_response_is_exact() -> None:
    response = json_response(200, {"amount": Decimal("0.10")}, {"X-Extra": "1"})
    assert response.content == b'{"amount":0.10}'
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["x-extra"] == "1"
    assert json_response(204).content == b""


# -- the transport ------------------------------------------------------------------------------------------------


def test_parse_strips_the_base_path_and_keeps_the_query() -> None:
    emulator = NotesEmulator()
    request = httpx.Request("GET", "https://notes.test:8443/prefix/API/V2/notes/1?a=1&b=&a=2")
    parsed = emulator.parse(request, mount="/prefix")
    assert parsed.path == "/notes/1"
    assert parsed.origin == "https://notes.test:8443/prefix"
    assert parsed.query == {"a": "2", "b": ""}
    assert parsed.method == "GET"
    assert emulator.parse(httpx.Request("GET", "https://notes.test/api/v2")).path == "/"


def test_in_process_client_round_trip() -> None:
    emulator = NotesEmulator()
    with emulator.http_client(base_url="https://notes.test/api/v2") as client:
        created = client.post("/notes", content=b'{"amount": 12.50}', headers={"content-type": "application/json"})
        assert created.status_code == 201
        assert created.content == b'{"id":"1","amount":12.50}'
        assert client.get("/notes/1").json() == {"id": "1", "amount": 12.5}
        assert client.get("/notes/9").status_code == 404
        assert client.get("/nope").json() == {"message": "no route /nope"}
        assert client.delete("/notes").status_code == 405
        listing = client.get("/notes").json()
        assert listing["next"] == "https://notes.test/api/v2/notes?p=2"
    assert emulator.seen[0].json() == {"amount": Decimal("12.50")}
    assert emulator.count_requests() == 6
    assert emulator.count_requests("get") == 4
    assert emulator.count_requests(path_regex=r"^/notes/\d+$") == 2
    assert [e.status for e in emulator.request_log] == [201, 200, 404, 404, 405, 200]


async def test_async_in_process_client() -> None:
    emulator = NotesEmulator()
    async with emulator.async_http_client(base_url="https://notes.test/api/v2") as client:
        created = await client.post("/notes", json={"amount": "1"})
        assert created.status_code == 201
        assert (await client.get("/notes/1")).json()["amount"] == "1"
    assert emulator.count_requests("POST") == 1


def test_each_client_reads_its_own_response() -> None:
    emulator = NotesEmulator()
    with emulator.http_client() as client:
        stream = client.send(client.build_request("GET", "https://notes.test/api/v2/notes"), stream=True)
        assert stream.read().startswith(b'{"notes"')
        stream.close()
        assert client.get("https://notes.test/api/v2/notes").json()["notes"] == []


def test_faults_are_logged_and_refuse_reaches_no_handler() -> None:
    emulator = NotesEmulator(faults=FaultPlan().refuse(times=1).drop(times=1, method="POST"))
    with emulator.http_client() as client:
        with pytest.raises(httpx.ConnectError):
            client.get("https://notes.test/api/v2/notes")
        assert emulator.seen == []
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("https://notes.test/api/v2/notes", json={"amount": "2"})
        assert emulator.notes == {"1": {"id": "1", "amount": "2"}}  # handled, then dropped
    assert [(e.status, e.fault and e.fault.value) for e in emulator.request_log] == [(None, "refuse"), (201, "drop")]


def test_transport_sleeps_can_be_injected() -> None:
    slept: list[float] = []
    emulator = NotesEmulator(faults=FaultPlan().latency(9.0))
    with httpx.Client(transport=SandboxTransport(emulator, sleep=slept.append)) as client:
        assert client.get("https://notes.test/api/v2/notes").status_code == 200
    assert slept == [9.0]


def test_asgi_app_is_a_starlette_app() -> None:
    from starlette.applications import Starlette

    assert isinstance(NotesEmulator().asgi_app(), Starlette)
