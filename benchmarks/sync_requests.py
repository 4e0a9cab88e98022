"""Requests a first sync of new Autotask milestones into empty Kantata workspaces sends, against the minimum:
the listing pages (500 a page on Autotask, 200 on Kantata; an empty workspace is one request) and the creates
(100 per POST). Everything else is metadata (zone, picklist, contract, workspace), listed per row.

Rows: one pair of 10,000; several pairs through the same two clients (what one sync run over many contracts
does); those pairs synced again (nothing to write: only pages are the minimum); and the pairs each through
fresh clients sharing one MetadataCache (a worker connects a client per job). The first and the second again
with the Autotask zone configured (``base_url``, as ``AUTOTASK_BASE_URL`` sets it): nothing to discover.

Then the same syncs in real child processes, each with its own process-wide metadata cache, through the sync
engine's path (clients sharing ``SHARED_METADATA``, the run's link store lent by ``lend_store``) and one SQLite
link store file they share: the first process ever (cold: an empty store), then a second process syncing new
pairs (warm: the zone and picklist the first one stored, within their TTL).

A pair's first sync (no link stored yet: ``expect_first_sync``, as the CLI and the workers call it) reads the
empty Kantata workspace with its milestones side-loaded: that one request is its listing (the empty page of the
minimum) and brings its currency; the rows count it apart ("empty workspace read as its listing").

What the minimum leaves out and no correct client can: the first process of a tenant (or the first after the
TTL) discovers the Autotask zone, unless it is configured, and reads the status picklist once.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from billing_milestones import AutotaskClient, KantataClient, Platform
from billing_milestones._metadata_cache import SHARED_METADATA, MetadataCache
from billing_milestones.sandbox import AutotaskSandbox, KantataSandbox
from billing_milestones.sync import LinkStore, SyncPair, apply_plan, load_sides, plan_sync
from billing_milestones.sync.connect import expect_first_sync, lend_store

Clients = dict[Platform, object]


def _pages(n: int, per: int) -> int:
    return max(1, -(-n // per))


def _minimum(pairs: int, each: int, *, first: bool = True) -> int:
    """A first sync lists the source and one empty target page, then creates; a re-sync lists both sides."""
    if first:
        return pairs * (_pages(each, 500) + 1 + -(-each // 100))
    return pairs * (_pages(each, 500) + _pages(each, 200))


class _Bench:
    """Two sandboxes with ``pairs`` contracts of ``each`` new milestones and as many empty workspaces."""

    def __init__(
        self,
        pairs: int,
        each: int,
        *,
        store: str = ":memory:",
        first_contract: int | None = None,
        zone: str | None = None,
    ) -> None:
        self.autotask, self.kantata = AutotaskSandbox(), KantataSandbox()
        self.zone = zone  # the Autotask base_url given (None: discovered)
        #: The Kantata workspace reads that side-load its milestones: a first sync's listing of it.
        self.probes = 0
        #: How many of the last measured run's requests were such reads.
        self.listed_empty = 0
        self.pairs: list[SyncPair] = []
        for p in range(pairs):
            given = None if first_contract is None else first_contract + p  # new pairs in every process
            contract = self.autotask.add_contract(given, name=f"Bench {p}", currency="USD")
            for i in range(each):
                self.autotask.add_milestone(contract, title=f"M{p}.{i}", amount=f"{i}.50")
            workspace = self.kantata.add_workspace(f"Bench {p}", currency="USD")
            self.pairs.append(SyncPair(Platform.AUTOTASK, str(contract), Platform.KANTATA, str(workspace)))
        self.store = LinkStore(store)

    @contextmanager
    def clients(self, metadata: MetadataCache | None = None, *, lend: bool = False) -> Iterator[Clients]:
        autotask, kantata = self.autotask, self.kantata
        creds = (AutotaskSandbox.USERNAME, AutotaskSandbox.SECRET, AutotaskSandbox.INTEGRATION_CODE)
        http = autotask.http_client()
        hooks = {"request": [self._count_probe]}
        with (
            AutotaskClient(
                *creds, currency="USD", http_client=http, metadata_cache=metadata, base_url=self.zone
            ) as source,
            KantataClient("t", http_client=kantata.http_client(event_hooks=hooks)) as target,
        ):
            if lend:  # as the sync engine's resolve_container does before the first request
                lend_store(source, self.store)
            yield {Platform.AUTOTASK: source, Platform.KANTATA: target}

    def _count_probe(self, request: httpx.Request) -> None:
        if "/workspaces/" in request.url.path and "billing_milestones" in request.url.params.get("include", ""):
            self.probes += 1

    def sync(self, pair: SyncPair, clients: Clients) -> dict[str, int]:
        expect_first_sync(pair, clients, self.store)  # as the CLI and the workers do before the listings
        plan = plan_sync(pair, *load_sides(pair, clients), self.store)
        apply_plan(plan, clients, self.store)
        return plan.counts()

    def measure(self, run: Callable[[], None]) -> Measured:
        """Requests ``run`` sent in all, the metadata among them by method and path, and how many of the
        others were empty workspaces read as their listing."""
        before = [len(sb.request_log) for sb in (self.autotask, self.kantata)]
        probes = self.probes
        run()
        log = [
            (e.method, re.sub(r"\d+", "N", e.path))
            for sb, start in zip((self.autotask, self.kantata), before, strict=True)
            for e in sb.request_log[start:]
        ]
        extra = collections.Counter(
            f"{method} {path}"
            for method, path in log
            if not path.endswith(("/query", "/query/next")) and path != "/billing_milestones"
        )
        listed_empty = self.probes - probes
        extra["GET /workspaces/N"] -= listed_empty  # not metadata: the empty page of the minimum
        return Measured(len(log), dict(+extra), listed_empty)


@dataclass(frozen=True)
class Measured:
    ours: int
    metadata: dict[str, int]
    listed_empty: int

    def row(self, what: str, minimum: int) -> str:
        listed = f"; {self.listed_empty} empty workspace(s) read as their listing" if self.listed_empty else ""
        ratio = f"ours {self.ours}, minimum {minimum} -> ratio {self.ours / minimum:.3f}"
        return f"{what}: {ratio} (metadata: {self.metadata or 'none'}{listed})"


def bench_sync_requests(n: int, zone: str | None = None) -> str:
    """One pair of ``n`` new milestones (the README row); with ``zone``, the Autotask base_url configured."""
    bench = _Bench(1, n, zone=zone)

    def run() -> None:
        with bench.clients() as clients:
            counts = bench.sync(bench.pairs[0], clients)
        assert counts["create"] == n, counts

    where = ", the Autotask zone configured" if zone else ""
    return bench.measure(run).row(f"requests for a sync of {n:,} new milestones into Kantata{where}", _minimum(1, n))


def bench_sync_pairs(pairs: int, each: int, zone: str | None = None) -> list[str]:
    """``pairs`` pairs of ``each``: first sync and a re-sync through the same clients, then (without ``zone``)
    fresh clients per pair sharing one MetadataCache (another set of pairs, so the first sync is measured
    again)."""
    bench = _Bench(pairs, each, zone=zone)
    where = ", the Autotask zone configured" if zone else ""
    rows = []
    with bench.clients() as clients:

        def first() -> None:
            for pair in bench.pairs:
                assert bench.sync(pair, clients)["create"] == each

        def again() -> None:
            for pair in bench.pairs:
                counts = bench.sync(pair, clients)
                assert sum(counts.values()) == counts.get("unchanged", 0), counts

        label = f"requests for {pairs} pairs x {each:,} new milestones, the same clients{where}"
        rows.append(bench.measure(first).row(label, _minimum(pairs, each)))
        if zone is not None:
            return rows
        label = f"requests to sync those {pairs} pairs again (nothing to write), the same clients"
        rows.append(bench.measure(again).row(label, _minimum(pairs, each, first=False)))
    fresh = _Bench(pairs, each)
    shared = MetadataCache()

    def per_pair() -> None:
        for pair in fresh.pairs:
            with fresh.clients(shared) as clients:
                assert fresh.sync(pair, clients)["create"] == each

    label = f"requests for {pairs} pairs x {each:,} new milestones, fresh clients per pair sharing a MetadataCache"
    rows.append(fresh.measure(per_pair).row(label, _minimum(pairs, each)))
    return rows


def _process_run(store: str, first_contract: int, pairs: int, each: int) -> dict[str, object]:
    """In this (child) process: sync ``pairs`` new pairs of ``each``, fresh clients per pair sharing the
    process-wide cache and lent the link store, as ``milestones sync`` or a worker's jobs do."""
    bench = _Bench(pairs, each, store=store, first_contract=first_contract)

    def run() -> None:
        for pair in bench.pairs:
            with bench.clients(SHARED_METADATA, lend=True) as clients:
                assert bench.sync(pair, clients)["create"] == each

    measured = bench.measure(run)
    bench.store.close()
    return {"measured": dataclasses.asdict(measured), "minimum": _minimum(pairs, each)}


def _in_a_process(store: Path, first_contract: int, pairs: int, each: int) -> tuple[Measured, int]:
    argv = [sys.executable, __file__, "--process", json.dumps([str(store), first_contract, pairs, each])]
    done = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=900)
    out = json.loads(done.stdout)
    return Measured(**out["measured"]), out["minimum"]


def bench_sync_processes(n: int, pairs: int) -> list[str]:
    """Real processes over one link store file: the first process ever syncs one pair of ``n`` (cold), a
    second one another pair of ``n`` (warm), a third ``pairs`` new pairs of ``n // pairs`` (warm)."""
    with tempfile.TemporaryDirectory(prefix="bm-sync-requests-") as folder:
        store = Path(folder) / "links.sqlite3"
        rows = []
        measured, minimum = _in_a_process(store, 1_000_000, 1, n)
        label = f"requests for a sync of {n:,} new milestones, the first process ever (cold: an empty link store)"
        rows.append(measured.row(label, minimum))
        measured, minimum = _in_a_process(store, 2_000_000, 1, n)
        label = f"requests for a sync of {n:,} new milestones, a second process (warm: the same link store)"
        rows.append(measured.row(label, minimum))
        measured, minimum = _in_a_process(store, 3_000_000, pairs, n // pairs)
        label = (
            f"requests for {pairs} pairs x {n // pairs:,} new milestones, fresh clients per pair, "
            "a third process (warm: the same link store)"
        )
        rows.append(measured.row(label, minimum))
    return rows


#: Where the sandbox's zoneInformation sends a client: what ``AUTOTASK_BASE_URL`` would say for its user.
ZONE = "https://webservices.autotask.net/ATServicesRest/V1.0"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a test runs this)")
    parser.add_argument("--process", help=argparse.SUPPRESS)  # a child of bench_sync_processes
    args = parser.parse_args()
    if args.process:
        print(json.dumps(_process_run(*json.loads(args.process))))
        raise SystemExit(0)
    n, pairs = (500, 3) if args.quick else (10_000, 10)
    print(bench_sync_requests(n))
    print(bench_sync_requests(n, ZONE))
    print("\n".join(bench_sync_pairs(pairs, n // pairs)))
    print("\n".join(bench_sync_pairs(pairs, n // pairs, ZONE)))
    print("\n".join(bench_sync_processes(n, pairs)))
