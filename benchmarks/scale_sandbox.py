"""``milestones sandbox serve`` for the scale run: started in a process of its own, slow, flaky and seeded
with the pairs' contracts (``--scale``), its pairs' workspaces checked over HTTP at the end, and what it
served read from the line it prints when it stops. Its own module: ``scale.py`` keeps to the run itself.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections import Counter
from typing import Any

import httpx

from billing_milestones import KantataClient
from billing_milestones.demo import KANTATA_TOKEN
from billing_milestones.sandbox._scale import scale_title

__all__ = ["check_pairs", "serve_scaled", "served", "stop_if_running"]


def serve_scaled(
    pairs: int, milestones: int, latency: float, fault_rate: float
) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """``milestones sandbox serve`` in a process of its own, slow, flaky and seeded with the pairs' contracts
    (``--scale``); the process and the JSON line it printed (its URL, environment and seeded pairs)."""
    argv = [sys.executable, "-m", "billing_milestones", "sandbox", "serve", "--port", "0", "--json", "--empty"]
    argv += ["--scale", f"{pairs}x{milestones}", "--latency", f"{latency:g}", "--faults", f"{fault_rate:g}"]
    argv += ["--fault-seed", "7"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            proc.wait(10)
            raise RuntimeError(f"milestones sandbox serve exited ({proc.returncode}) before printing its address")
        started: dict[str, Any] = json.loads(line)
    except BaseException:
        stop_if_running(proc)
        raise
    return proc, started


def served(proc: subprocess.Popen[str]) -> dict[str, Any]:
    """Stop the sandbox (SIGTERM) and read what each emulator served, from the line it prints when it stops."""
    proc.send_signal(signal.SIGTERM)
    assert proc.stdout is not None
    stopped: dict[str, Any] = json.loads(proc.stdout.readline())
    proc.wait(30)
    proc.stdout.close()
    counts: dict[str, Any] = stopped["served"]
    return counts


def stop_if_running(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)
    if proc.stdout is not None:
        proc.stdout.close()


def check_pairs(env: dict[str, str], seeded: list[list[Any]], milestones: int) -> tuple[int, int, int, int]:
    """Each pair's workspace listed over HTTP against the titles its contract was seeded with: pairs synced,
    milestones lost, milestones duplicated, and the requests this check sent (retries through the faults too),
    which are not the run's."""
    sent = 0

    def count(request: httpx.Request) -> None:
        nonlocal sent
        sent += 1

    lost = duplicated = synced = 0
    http = httpx.Client(event_hooks={"request": [count]})
    with KantataClient(KANTATA_TOKEN, base_url=env["KANTATA_BASE_URL"], http_client=http, max_retries=10) as client:
        for p, (_, workspace) in enumerate(seeded):
            wanted = Counter(scale_title(p, m) for m in range(milestones))
            have = Counter(m.title for m in client.milestones.list(str(workspace)))
            lost += sum((wanted - have).values())
            duplicated += sum((have - wanted).values())
            synced += wanted == have
    http.close()
    return synced, lost, duplicated, sent
