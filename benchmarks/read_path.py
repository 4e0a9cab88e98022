"""Read-path benchmarks: the SDK against raw httpx + json.loads, on the same loopback server answering fixed
JSON (benchmarks/static_server.py, its own process). Figures are this process's CPU time, the median of
interleaved rounds, so the server's work and the machine's drift cancel out of the ratio."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from billing_milestones import KantataClient
from billing_milestones.kantata._flows import LISTING_INCLUDES

SERVER = Path(__file__).with_name("static_server.py")
WORKSPACE = "900"


@contextmanager
def static_server(items: int, *flags: str) -> Iterator[str]:
    """The base URL of a static server (own process) whose milestone listing holds ``items`` milestones
    (``flags``: its options, e.g. ``--synced``)."""
    proc = subprocess.Popen(
        [sys.executable, str(SERVER), str(items), *flags], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}/api/v1"
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)


def paired(ours: Callable[[], object], base: Callable[[], object], rounds: int, calls: int) -> tuple[float, float]:
    """Median CPU seconds per call of each, measured in alternating rounds."""
    a: list[float] = []
    b: list[float] = []
    for _ in range(rounds):
        for fn, out in ((ours, a), (base, b)):
            start = time.process_time()
            for _ in range(calls):
                fn()
            out.append((time.process_time() - start) / calls)
    return statistics.median(a), statistics.median(b)


def row(what: str, ours: float, base: float) -> str:
    return f"{what}: ours {ours * 1e3:.2f} ms, raw httpx + json.loads {base * 1e3:.2f} ms -> ratio {ours / base:.2f}"


def bench_reads(items: int = 200, rounds: int = 11, calls: int = 5) -> list[str]:
    with static_server(items) as url, httpx.Client() as raw, KantataClient("t", base_url=url) as client:
        # Each baseline asks for what the SDK call beside it asks for, so both read the same bytes (the common
        # view side-loads the workspace too, as Kantata answers ``include=workspace``).
        params: dict[str, str | int] = {"workspace_id": WORKSPACE, "include": "external_references", "page": 1}
        params["per_page"] = 200
        view_params = {**params, "include": ",".join(LISTING_INCLUDES)}

        def raw_page() -> object:
            return json.loads(raw.get(f"{url}/billing_milestones", params=params).content)

        def raw_view_page() -> object:
            return json.loads(raw.get(f"{url}/billing_milestones", params=view_params).content)

        def raw_one() -> object:
            return json.loads(raw.get(f"{url}/billing_milestones/1000").content)

        def sdk_page() -> list[object]:
            return list(client.billing_milestones.list(workspace_ids=[WORKSPACE], include=["external_references"]))

        def view_page() -> list[object]:
            return list(client.milestones.list(WORKSPACE))

        assert len(sdk_page()) == items and len(view_page()) == items
        rows = [row(f"kantata list of one {items}-item page", *paired(sdk_page, raw_page, rounds, calls))]
        rows.append(row("common view milestones.list, same page", *paired(view_page, raw_view_page, rounds, calls)))
        rows.append(
            row("GET one milestone", *paired(lambda: client.billing_milestones.get("1000"), raw_one, rounds, calls * 4))
        )
    return rows


if __name__ == "__main__":
    print("\n".join(bench_reads()))
