"""Peak memory of listing n Kantata milestones through the common view and planning a sync over them, above
a bare interpreter, each measured in a fresh process (the kernel's peak resident size, ``ru_maxrss``).
The baseline streams the same pages as raw JSON (httpx + json.loads), keeping nothing."""

from __future__ import annotations

import subprocess
import sys

from read_path import WORKSPACE, static_server

_OURS = """
import sys
from billing_milestones import KantataClient, Platform
from billing_milestones.sync import SyncPair, plan_sync
with KantataClient("t", base_url=sys.argv[1]) as client:
    source = list(client.milestones.list(sys.argv[2]))
pair = SyncPair(Platform.KANTATA, sys.argv[2], Platform.KANTATA, "901")
plan = plan_sync(pair, source, [])
assert len(plan.actions) == int(sys.argv[3]), len(plan.actions)
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


def bench_memory(n: int) -> str:
    with static_server(n) as url:
        bare = peak_mb(_BARE)
        ours = peak_mb(_OURS, url, WORKSPACE, str(n)) - bare
        raw = peak_mb(_RAW, url, WORKSPACE, str(n)) - bare
    return (
        f"peak memory listing {n:,} milestones and planning a sync, above a bare interpreter "
        f"({bare:.0f} MB): ours {ours:.0f} MB, raw JSON pages streamed {raw:.0f} MB -> ratio {ours / max(raw, 1):.1f}"
    )


if __name__ == "__main__":
    print(bench_memory(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
