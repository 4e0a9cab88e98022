"""``milestones sandbox serve`` for the scale run: started in a process of its own, slow, flaky and seeded
with the pairs' contracts (``--scale``), its pairs' workspaces checked over HTTP at the end, and what it
served read from the line it prints when it stops. Its own module: ``scale.py`` keeps to the run itself.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx

from billing_milestones import AutotaskClient, KantataClient, Milestone
from billing_milestones.demo import KANTATA_TOKEN

__all__ = ["PairCheck", "check_pair", "check_pairs", "serve_scaled", "served", "stop_if_running"]


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


@dataclass(frozen=True)
class PairCheck:
    """What :func:`check_pairs` found: pairs whose workspace holds exactly its contract's milestones, and
    the milestones lost (in the contract, not the workspace), duplicated (a title in the workspace more
    often than in the contract, or not in it at all) or wrong (a title in both, its amount or due date not
    the contract's); the requests the check sent on each platform (retries through the faults too), which
    are not the run's."""

    synced: int
    lost: int
    duplicated: int
    wrong: int
    kantata_requests: int
    autotask_requests: int


def _content(milestone: Milestone) -> tuple[str | None, str | None]:
    """What a synced milestone must carry over beside its title: its amount (with currency) and due date."""
    amount = milestone.amount
    return (f"{amount.amount} {amount.currency}" if amount is not None else None, str(milestone.due))


def check_pair(source: list[Milestone], target: list[Milestone]) -> tuple[int, int, int]:
    """One pair's (lost, duplicated, wrong): the contract's milestones against the workspace's, by title."""
    wanted = Counter(m.title for m in source)
    have = Counter(m.title for m in target)
    expected = {m.title: _content(m) for m in source}
    wrong = sum(1 for m in target if m.title in expected and _content(m) != expected[m.title])
    return sum((wanted - have).values()), sum((have - wanted).values()), wrong


def check_pairs(env: dict[str, str], seeded: list[list[Any]], milestones: int) -> PairCheck:
    """Each pair's workspace listed over HTTP against its contract, also listed over HTTP (the source as
    it is, not as the seed meant it): titles, amounts and due dates (:func:`check_pair`). A pair is synced
    when its contract still holds its ``milestones`` and its workspace exactly those."""
    sent: Counter[str] = Counter()

    def count(request: httpx.Request) -> None:
        sent["autotask" if "/autotask/" in request.url.path else "kantata"] += 1

    lost = duplicated = wrong = synced = 0
    with contextlib.ExitStack() as stack:
        http = stack.enter_context(httpx.Client(event_hooks={"request": [count]}))
        kantata = stack.enter_context(
            KantataClient(KANTATA_TOKEN, base_url=env["KANTATA_BASE_URL"], http_client=http, max_retries=10)
        )
        autotask = stack.enter_context(
            AutotaskClient(
                env["AUTOTASK_USERNAME"],
                env["AUTOTASK_SECRET"],
                env["AUTOTASK_INTEGRATION_CODE"],
                base_url=env["AUTOTASK_BASE_URL"],
                currency="USD",
                http_client=http,
                max_retries=10,
            )
        )
        for contract, workspace in seeded:
            source = list(autotask.milestones.list(str(contract)))
            found = check_pair(source, list(kantata.milestones.list(str(workspace))))
            lost, duplicated, wrong = lost + found[0], duplicated + found[1], wrong + found[2]
            synced += len(source) == milestones and found == (0, 0, 0)
    return PairCheck(synced, lost, duplicated, wrong, sent["kantata"], sent["autotask"])
