"""Autotask read-path benchmark: one ContractMilestones query page (50 and 500 records, as the sync and a full
page read them) through the SDK, native (``contract_milestones.query``) and common (``milestones.stream``), against
raw httpx + ``json.loads`` of the same bytes. The bodies are the sandbox's own answers, recorded once and served
as fixed bytes by this file run as a server in its own process, so the figures (this process's CPU time, the
median of interleaved rounds) hold only the client's work.

python benchmarks/autotask_read.py [--quick]       # the rows
python benchmarks/autotask_read.py --serve ITEMS   # the server: prints its port, serves until stdin closes
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from read_path import paired, row

from billing_milestones import AutotaskClient
from billing_milestones.autotask import F
from billing_milestones.sandbox import AutotaskSandbox

BASE = "/ATServicesRest/V1.0"
QUERY = f"{BASE}/ContractMilestones/query"
FIELDS = f"{BASE}/ContractMilestones/entityInformation/fields"
CREDENTIALS = (AutotaskSandbox.USERNAME, AutotaskSandbox.SECRET, AutotaskSandbox.INTEGRATION_CODE)


def recorded_bodies(items: int) -> tuple[int, dict[str, bytes]]:
    """The sandbox's query page of one contract's ``items`` milestones (sync-keyed descriptions, as a synced
    contract's are) and its entityInformation/fields, as it answers them: (contract id, path -> bytes)."""
    box = AutotaskSandbox()
    contract = box.add_contract(name="Bench", currency="USD")
    for i in range(items):
        due = dt.date(2027, 1 + i % 12, 1 + i % 28)
        box.add_milestone(contract, title=f"Milestone {i}", amount=f"{1000 + i}.25", date_due=due,
                          description=f"Phase {i} [bm:bm{i:016x}]")  # fmt: skip
    headers = dict(zip(("UserName", "Secret", "ApiIntegrationCode"), CREDENTIALS, strict=True))
    with box.http_client() as http:
        page = http.post(f"http://sandbox{QUERY}", json=query_body(contract), headers=headers)
        fields = http.get(f"http://sandbox{FIELDS}", headers=headers)
    assert page.status_code == fields.status_code == 200
    return contract, {QUERY: page.content, FIELDS: fields.content}


def query_body(contract: int) -> dict[str, Any]:
    return {"filter": [{"op": "eq", "field": "contractID", "value": contract}]}


def serve(items: int) -> None:
    contract, bodies = recorded_bodies(items)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            body = bodies.get(self.path.partition("?")[0], b'{"errors":["not served"]}')
            self.send_response(200 if self.path.partition("?")[0] in bodies else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], contract, flush=True)
    sys.stdin.read()
    server.shutdown()


@contextmanager
def static_server(items: int) -> Iterator[tuple[str, int]]:
    """(base URL, contract id) of a server (own process) answering the recorded bodies."""
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(items)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        port, contract = proc.stdout.readline().split()
        yield f"http://127.0.0.1:{port}{BASE}", int(contract)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)


def bench_autotask_reads(sizes: tuple[int, ...] = (50, 500), rounds: int = 11, calls: int = 5) -> list[str]:
    rows: list[str] = []
    for items in sizes:
        with (
            static_server(items) as (url, contract),
            httpx.Client(headers=dict(zip(("UserName", "Secret", "ApiIntegrationCode"), CREDENTIALS, strict=True)))
            as raw,
            AutotaskClient(*CREDENTIALS, currency="USD", base_url=url) as client,
        ):  # fmt: skip
            body = json.dumps(query_body(contract))

            def raw_page(body: str = body, url: str = url) -> object:
                return json.loads(raw.post(f"{url}/ContractMilestones/query", content=body).content)

            def native(contract: int = contract) -> list[object]:
                return list(client.contract_milestones.query(F.eq("contractID", contract)))

            def view(contract: int = contract) -> list[object]:
                return list(client.milestones.stream(str(contract)))

            assert len(native()) == items and len(view()) == items  # the picklist is read here, once
            rows.append(row(f"autotask query page of {items}, native", *paired(native, raw_page, rounds, calls)))
            rows.append(row(f"autotask common view stream, page of {items}", *paired(view, raw_page, rounds, calls)))
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--serve", type=int, metavar="ITEMS", help="run the static server")
    parser.add_argument("--quick", action="store_true", help="small sizes and few rounds")
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve)
    else:
        print("\n".join(bench_autotask_reads((50,), 3, 1) if args.quick else bench_autotask_reads()))
