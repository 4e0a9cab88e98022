"""A loopback HTTP server answering fixed Kantata JSON, run in its own process so that the figures of the
process under test hold only its own work (both the SDK and the raw baseline read from this server).

python benchmarks/static_server.py ITEMS [--synced]  # prints the port, serves until stdin closes

A POST to the milestone collection answers what Kantata answers a bulk create of milestones 0..49 (as
:func:`created` builds them), whatever the body: the write benchmark sends exactly those.
"""

from __future__ import annotations

import functools
import json
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

WORKSPACE = "900"
#: A second workspace, in the same currency, that holds no milestones (a sync's empty target).
EMPTY_WORKSPACE = "901"


def milestone(i: int) -> dict[str, Any]:
    return {
        "id": str(1000 + i),
        "title": f"Milestone {i}",
        "amount_in_cents": 1000 * i + 25,
        "currency": "USD",
        "billing_type": "fixed_date",
        "date_to_invoice": f"2027-{1 + i % 12:02d}-{1 + i % 28:02d}",
        "story_id": None,
        "workspace_id": WORKSPACE,
        "invoice_id": None,
        "external_reference_ids": [str(50_000 + i)],
        "created_at": "2026-01-01T10:00:00-05:00",
        "updated_at": "2026-01-02T10:00:00-05:00",
    }


def placeholder_key(i: int) -> str:
    return f"bm{i:016x}"


#: The sync key milestone i's reference carries: a placeholder of a sync key's shape, or with ``--synced``
#: the one the sync of SOURCE_WORKSPACE into this workspace wrote (benchmarks/memory.py --linked re-syncs it).
sync_key: Callable[[int], str] = placeholder_key
#: The source of that sync (``--synced``): the same milestones, ids from SOURCE_ID, without references.
SOURCE_WORKSPACE = "902"
SOURCE_ID = 500_000


def source_milestone(i: int) -> dict[str, Any]:
    ident = str(SOURCE_ID + i)
    return {**milestone(i), "id": ident, "workspace_id": SOURCE_WORKSPACE, "external_reference_ids": []}


@functools.cache
def synced_key(i: int) -> str:
    from billing_milestones import Platform
    from billing_milestones.sync.pair import SyncPair, sync_key_of

    ident = str(SOURCE_ID + i)
    pair = _pair(SyncPair, Platform.KANTATA)
    return sync_key_of(pair, Platform.KANTATA, ident, ident, f"kantata:{SOURCE_WORKSPACE}/{ident}")


@functools.cache
def _pair(pair: Any, kantata: Any) -> Any:
    return pair(kantata, SOURCE_WORKSPACE, kantata, WORKSPACE)


def reference(i: int) -> dict[str, Any]:
    return {
        "id": str(50_000 + i),
        "service_name": "billing-milestones",
        "service_model": "billing_milestone",
        "service_model_ref": sync_key(i),
        "status": "successful",
        "subject_id": str(1000 + i),
        "subject_type": "BillingMilestone",
    }


PER_PAGE = 200


def page(items: int, number: int = 1, *, with_workspace: bool = False, source: bool = False) -> bytes:
    """Page ``number`` (200 a page) of a listing of ``items`` milestones, with their external references and,
    when asked (``include=workspace``), their workspace; ``source``: SOURCE_WORKSPACE's."""
    first = (number - 1) * PER_PAGE
    ms = [(source_milestone if source else milestone)(i) for i in range(first, min(items, first + PER_PAGE))]
    refs = () if source else (reference(i) for i in range(first, first + len(ms)))
    body = {
        "count": items,
        "meta": {"count": items, "page_count": -(-items // PER_PAGE), "page_number": number, "page_size": PER_PAGE},
        "results": [{"key": "billing_milestones", "id": m["id"]} for m in ms],
        "billing_milestones": {m["id"]: m for m in ms},
        "external_references": {r["id"]: r for r in refs},
    }
    if with_workspace and ms:  # as Kantata answers include=workspace
        ident = SOURCE_WORKSPACE if source else WORKSPACE
        body["workspaces"] = {ident: {"id": ident, "title": "Bench", "currency": "USD", "currency_base_unit": 100}}
    return json.dumps(body).encode()


def one(i: int = 0) -> bytes:
    m = milestone(i)
    return json.dumps(
        {"count": 1, "results": [{"key": "billing_milestones", "id": m["id"]}], "billing_milestones": {m["id"]: m}}
    ).encode()


#: How many milestones the canned bulk-create answer holds.
CREATED = 50


def created(n: int = CREATED) -> bytes:
    """Kantata's answer to a bulk create of milestones 0..n-1 with their sync keys, side-loading the external
    references (``include=external_references,story``; none of them has a story)."""
    ms = [milestone(i) for i in range(n)]
    body = {
        "count": n,
        "results": [{"key": "billing_milestones", "id": m["id"]} for m in ms],
        "billing_milestones": {m["id"]: m for m in ms},
        "external_references": {r["id"]: r for r in (reference(i) for i in range(n))},
    }
    return json.dumps(body).encode()


def workspace(ident: str = WORKSPACE) -> bytes:
    ws = {"id": ident, "title": "Bench", "currency": "USD", "currency_base_unit": 100}
    return json.dumps({"count": 1, "results": [{"key": "workspaces", "id": ident}], "workspaces": {ident: ws}}).encode()


def serve(items: int) -> None:
    first_pages = {False: page(items), True: page(items, with_workspace=True)}
    bodies = {"/api/v1/workspaces": workspace()}
    empty_page, empty_workspace = page(0), workspace(EMPTY_WORKSPACE)
    single = one()
    bulk = created()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            params = parse_qs(query)
            asked = params.get("workspace_ids", params.get("workspace_id", []))
            if path == "/api/v1/billing_milestones" and asked == [EMPTY_WORKSPACE]:
                body = empty_page
            elif path == "/api/v1/billing_milestones" and asked == [SOURCE_WORKSPACE]:
                number = int(params.get("page", ["1"])[0])
                side_load = "workspace" in params.get("include", [""])[0].split(",")
                body = page(items, number, with_workspace=side_load, source=True)
            elif path == "/api/v1/billing_milestones":
                number = int(params.get("page", ["1"])[0])
                side_load = "workspace" in params.get("include", [""])[0].split(",")
                body = first_pages[side_load] if number == 1 else page(items, number, with_workspace=side_load)
            elif path.startswith("/api/v1/billing_milestones/"):
                body = single
            elif path.endswith(f"/{EMPTY_WORKSPACE}"):
                body = empty_workspace
            elif path.endswith(f"/{SOURCE_WORKSPACE}"):
                body = workspace(SOURCE_WORKSPACE)
            else:
                body = bodies["/api/v1/workspaces"]
            self._answer(body)

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._answer(bulk)

        def _answer(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    if "--synced" in sys.argv:
        sync_key = synced_key
    serve(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
