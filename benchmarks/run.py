"""Benchmarks: each row prints ours vs a baseline measured in the same run, and the ratio. Every row of issue
13's table is here (planner, memory, read path, requests, money), with the earlier bulk-write rows. Never
asserted in tests; tests/test_benchmarks.py runs ``--quick`` so the scripts keep working.

make bench        # or: .venv/bin/python benchmarks/run.py [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from autotask_read import bench_autotask_reads
from memory import bench_memory
from money_ops import bench_money
from planner import bench_first_sync, bench_linked
from read_path import bench_reads
from sync_requests import bench_sync_pairs, bench_sync_processes, bench_sync_requests
from write_path import bench_create

from billing_milestones import AutotaskClient, KantataClient, Milestone, Money
from billing_milestones._http import dumps
from billing_milestones.autotask import F
from billing_milestones.sandbox import AutotaskSandbox, KantataSandbox


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def kantata_bulk_create(n: int) -> None:
    """Creating n milestones through the common view (100 per POST) vs one POST per milestone."""
    due = dt.date(2027, 1, 1)
    milestones = [Milestone(title=f"M{i}", amount=Money(f"{i}.25", "USD"), due=due) for i in range(n)]

    def ours() -> int:
        sandbox = KantataSandbox()
        ws = sandbox.add_workspace("Bench", currency="USD")
        with KantataClient("t", http_client=sandbox.http_client()) as client:
            client.milestones.create(ws, milestones)
        return sandbox.count_requests("POST")

    def baseline() -> int:
        sandbox = KantataSandbox()
        ws = sandbox.add_workspace("Bench", currency="USD")
        with KantataClient("t", http_client=sandbox.http_client()) as client:
            for m in milestones:
                client.milestones.create(ws, [m])
        return sandbox.count_requests("POST")

    posts: dict[str, int] = {}
    t_ours = timed(lambda: posts.__setitem__("ours", ours()))
    t_base = timed(lambda: posts.__setitem__("base", baseline()))
    print(
        f"kantata create x{n}: ours {t_ours:.3f}s / {posts['ours']} POSTs, one-per-request {t_base:.3f}s / "
        f"{posts['base']} POSTs -> time ratio {t_ours / t_base:.2f}, request ratio {posts['ours'] / posts['base']:.3f}"
    )


def autotask_read(n: int) -> None:
    """Reading n milestones of a contract: paged POST query (500 a page) vs a GET per milestone."""
    sandbox = AutotaskSandbox()
    contract = sandbox.add_contract(name="Bench", currency="USD")
    ids = [sandbox.add_milestone(contract, title=f"M{i}", amount=f"{i}.50") for i in range(n)]
    with AutotaskClient(
        AutotaskSandbox.USERNAME,
        AutotaskSandbox.SECRET,
        AutotaskSandbox.INTEGRATION_CODE,
        currency="USD",
        http_client=sandbox.http_client(),
    ) as client:
        before = sandbox.count_requests()
        t_ours = timed(lambda: list(client.contract_milestones.query(F.eq("contractID", contract))))
        ours = sandbox.count_requests() - before
        before = sandbox.count_requests()
        t_base = timed(lambda: [client.contract_milestones.get(i) for i in ids])
        base = sandbox.count_requests() - before
    print(
        f"autotask read x{n}: ours {t_ours:.3f}s / {ours} requests, GET per milestone {t_base:.3f}s / {base} "
        f"requests -> time ratio {t_ours / t_base:.2f}, request ratio {ours / base:.4f}"
    )


def exact_json(n: int) -> None:
    """Our exact-Decimal JSON encoder vs json.dumps over floats (which would lose digits)."""
    amounts = [Decimal(f"{i}.10") for i in range(n)]
    payload = [{"amount": a, "title": f"M{i}"} for i, a in enumerate(amounts)]
    floats = [{"amount": float(a), "title": f"M{i}"} for i, a in enumerate(amounts)]
    t_ours = timed(lambda: dumps(payload))
    t_base = timed(lambda: json.dumps(floats))
    print(f"json encode x{n}: ours {t_ours:.4f}s, json.dumps(float) {t_base:.4f}s -> ratio {t_ours / t_base:.2f}")


@dataclass(frozen=True)
class Sizes:
    """The size of each row."""

    n: int
    linked: int
    first_sync: tuple[int, ...]
    memory: int
    sync: int
    read_rounds: tuple[int, int]
    autotask_pages: tuple[int, ...]
    money_calls: int


#: The issue's sizes, and the quick ones tests/test_benchmarks.py runs.
FULL = Sizes(1000, 100_000, (250, 2000, 10_000), 100_000, 10_000, (11, 5), (50, 500), 20_000)
QUICK = Sizes(40, 2000, (50, 200), 2000, 300, (3, 1), (50,), 2000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the scripts run (seconds)")
    size = QUICK if parser.parse_args().quick else FULL
    rows = [
        *bench_first_sync(size.first_sync),
        bench_linked(size.linked),
        bench_memory(size.memory),
        *bench_reads(200, *size.read_rounds),
        *bench_create(*size.read_rounds),
        *bench_autotask_reads(size.autotask_pages, *size.read_rounds),
        bench_sync_requests(size.sync),
        *bench_sync_pairs(10, size.sync // 10),
        *bench_sync_processes(size.sync, 10),
        *bench_money(size.money_calls),
    ]
    print("\n".join(rows), flush=True)
    n = size.n
    kantata_bulk_create(n)
    autotask_read(n)
    exact_json(n * 10)


if __name__ == "__main__":
    main()
