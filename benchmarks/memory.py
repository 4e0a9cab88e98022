"""Peak memory of listing n Kantata milestones through the common view and planning a sync over them, above
a bare interpreter, each measured in a fresh process (the kernel's peak resident size, ``ru_maxrss``).
The baseline streams the same pages as raw JSON (httpx + json.loads), keeping nothing.

Ours is what a sync does (the CLI, the workers): ``load_sides`` lists both containers through the common view,
streaming each page into the planner's rows, and ``plan_sync`` plans every source milestone as a create into
an empty workspace (all n are written, so each keeps what its create needs). ``--linked`` measures the other
end: a re-sync of a source workspace into the workspace it was synced into, every milestone linked and
unchanged, its n links in a SQLite link store as an apply leaves them (each with its desired fingerprint and
its own timestamp), which ``plan_sync`` reads as ``milestones sync`` and the workers do: the store handed to
it. (Until December 2026 this row built the n links in the measured process and passed the list: a real run
reads them from the store, whose links carry two texts more each, and the planner holds them as it likes.)
The server's ``--synced`` pages are what that sync left: the target's references carry its sync keys, the
source's milestones none. Until 2026-12-02 the row synced the workspace into itself, from pages whose every
milestone carried a placeholder of a sync key's shape: no link's key matched its target's (each link kept a
copy of its own) and each source row held a key a real source does not carry, ~14 MB at 100,000."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from read_path import WORKSPACE, static_server
from static_server import EMPTY_WORKSPACE, SOURCE_WORKSPACE

_OURS = """
import sys
from billing_milestones import KantataClient, Platform
from billing_milestones.sync import SyncPair, load_sides, plan_sync
n = int(sys.argv[3])
pair = SyncPair(Platform.KANTATA, sys.argv[2], Platform.KANTATA, sys.argv[4])
with KantataClient("t", base_url=sys.argv[1]) as client:
    source, target = load_sides(pair, client)
assert len(source) == n and not target, (len(source), len(target))
plan = plan_sync(pair, source, target)
assert len(plan.actions) == plan.counts()["create"] == n, plan.counts()
"""

_LINKED_STORE = """
import dataclasses, datetime as dt, sys
from billing_milestones import KantataClient, Platform
from billing_milestones.sync import Link, LinkStore, SyncPair, load_sides, sync_key_for
from billing_milestones.sync.plan import source_fingerprint, target_fingerprint
pair = SyncPair(Platform.KANTATA, sys.argv[4], Platform.KANTATA, sys.argv[2])
with KantataClient("t", base_url=sys.argv[1]) as client:
    source, target = load_sides(pair, client)
start = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
rows = [
    dataclasses.asdict(Link(
        pair.id, sync_key_for(pair, s.key), s.text, t.text, source_fingerprint(s), target_fingerprint(t, pair),
        (start + dt.timedelta(milliseconds=3 * i)).isoformat(timespec="milliseconds"), target_fingerprint(t, pair),
    ))
    for i, (s, t) in enumerate(zip(source, target, strict=True))
]
assert all(t.sync_key == row["sync_key"] for t, row in zip(target, rows)), "pages not as that sync wrote them"
with LinkStore(sys.argv[3]) as store:
    store.load("links", rows)
"""

_LINKED = """
import sys
from billing_milestones import KantataClient, Platform
from billing_milestones.sync import LinkStore, SyncPair, load_sides, plan_sync
n = int(sys.argv[4])
pair = SyncPair(Platform.KANTATA, sys.argv[5], Platform.KANTATA, sys.argv[2])
with KantataClient("t", base_url=sys.argv[1]) as client, LinkStore(sys.argv[3]) as store:
    source, target = load_sides(pair, client)
    plan = plan_sync(pair, source, target, store)
assert len(source) == len(target) == plan.counts()["unchanged"] == len(plan.actions) == n, plan.counts()
"""

_RAW = """
import json, sys, httpx
n, seen, page = int(sys.argv[3]), 0, 1
with httpx.Client() as raw:
    while seen < n:
        params = {"workspace_id": sys.argv[2], "page": page, "per_page": 200, "include": "external_references"}
        seen += len(json.loads(raw.get(sys.argv[1] + "/billing_milestones", params=params).content)["results"])
        page += 1
"""

_BARE = "pass"


_PROBE = """
import resource
try:  # the high-water mark of this program's own memory (ru_maxrss would count the parent's copy before exec)
    with open("/proc/self/status") as status:
        print(next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")))
except OSError:
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_mb(code: str, *args: str) -> float:
    """The peak resident size (MB) of a fresh interpreter running ``code``."""
    done = subprocess.run([sys.executable, "-c", code + _PROBE, *args], capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1]) / 1024  # kB


def bench_memory(n: int, *, linked: bool = False) -> str:
    with static_server(n, *(["--synced"] if linked else [])) as url:
        bare = peak_mb(_BARE)
        if linked:
            with tempfile.TemporaryDirectory() as folder:
                store = str(Path(folder) / "links.db")
                # written by one process, planned from by another
                peak_mb(_LINKED_STORE, url, WORKSPACE, store, SOURCE_WORKSPACE)
                ours = peak_mb(_LINKED, url, WORKSPACE, store, str(n), SOURCE_WORKSPACE) - bare
        else:
            ours = peak_mb(_OURS, url, WORKSPACE, str(n), EMPTY_WORKSPACE) - bare
        raw = peak_mb(_RAW, url, WORKSPACE, str(n)) - bare
    what = "both sides, every pair linked and unchanged" if linked else "every milestone a create"
    return (
        f"peak memory listing {n:,} milestones and planning a sync ({what}), above a bare interpreter "
        f"({bare:.0f} MB): ours {ours:.0f} MB, raw JSON pages streamed {raw:.0f} MB -> ratio {ours / max(raw, 1):.1f}"
    )


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:] if a != "--linked"] or [100_000]
    for size in sizes:
        print(bench_memory(size, linked="--linked" in sys.argv))
