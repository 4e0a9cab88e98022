"""What the crash-point tests share: ``milestones sandbox serve`` in a process of its own behind a
:class:`~tests._wire_tap.WireTap`, a config of three small pairs, the platforms read back over HTTP, and the
check that a pair's target holds exactly its source's milestones.

The pairs (each test starts its own sandbox, so each starts from the seed):

* ``at2k``: ``--scale``'s first Autotask contract (4 milestones ``P0 M0``..``P0 M3``) to an empty Kantata
  workspace: creates go in one bulk POST.
* ``k2k``: a Kantata workspace the test fills (:meth:`CrashRig.seed_kantata`) to the demo's empty ERP
  workspace: bulk creates, updates and deletes (Autotask, as a source, cannot lose a milestone).
* ``k2at``: the same Kantata workspace to ``--scale``'s second Autotask contract, which keeps its own four
  ``P1`` milestones (Autotask has no empty contract to give, nor a DELETE): creates one request each, three at
  once.
* ``c2k``: the demo's crm.com draft (three stages) to its empty Kantata workspace; its source is read through
  ``milestones plan`` (:meth:`CrashRig.check`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from billing_milestones import AutotaskClient, KantataClient, Milestone, Money
from billing_milestones.demo import KANTATA_TOKEN
from billing_milestones.sync import LinkStore
from billing_milestones.sync.store import RunRecord

from ._wire_tap import WireTap

__all__ = ["AUTOTASK_CREATE", "KANTATA_CREATE", "CrashRig", "Side", "crash_rig", "mismatch"]

#: The request paths of a create: Kantata's bulk POST, Autotask's one milestone of a contract.
KANTATA_CREATE: Final = r"/kantata/api/v1/billing_milestones"
AUTOTASK_CREATE: Final = r"/autotask/ATServicesRest/V1\.0/(Contracts/\d+/Milestones|ContractMilestones)$"
#: Seconds a killed run's pending writes are given to land (``write_settle``) in every pair here.
WRITE_SETTLE: Final = 4.0


@dataclass(frozen=True)
class Side:
    """A milestone as the checks compare it: title, amount and due date."""

    title: str
    amount: str | None
    due: str | None

    @classmethod
    def of(cls, m: Milestone) -> Side:
        amount = f"{Decimal(m.amount.amount):.2f} {m.amount.currency}" if m.amount is not None else None
        return cls(m.title, amount, str(m.due) if m.due else None)


def mismatch(source: list[Side], target: list[Side], *, besides: frozenset[str] = frozenset()) -> dict[str, Any]:
    """What keeps ``target`` from holding exactly ``source`` (titles in ``besides`` are the target's own and
    left out): lost, duplicated (or stray) titles and wrong contents. Empty when they agree."""
    target = [t for t in target if t.title not in besides]
    wanted, have = Counter(s.title for s in source), Counter(t.title for t in target)
    by_title = {s.title: s for s in source}
    wrong = sorted(t.title for t in target if t.title in by_title and t != by_title[t.title])
    found = {"lost": sorted((wanted - have).elements()), "duplicated": sorted((have - wanted).elements())}
    if wrong:
        found["wrong"] = wrong
    return {k: v for k, v in found.items() if v}


@dataclass
class CrashRig:
    root: Path
    links: str
    sandbox: subprocess.Popen[str]
    tap: WireTap
    env: dict[str, str]
    containers: dict[str, tuple[str, str]]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def config(self) -> Path:
        return self.root / "milestones.toml"

    # -- the platforms, over HTTP (straight to the sandbox, not through the tap) --------------------------
    @contextlib.contextmanager
    def clients(self) -> Iterator[tuple[KantataClient, AutotaskClient]]:
        with (
            KantataClient(KANTATA_TOKEN, base_url=self._direct("KANTATA_BASE_URL"), max_retries=5) as kantata,
            AutotaskClient(
                self.env["AUTOTASK_USERNAME"],
                self.env["AUTOTASK_SECRET"],
                self.env["AUTOTASK_INTEGRATION_CODE"],
                base_url=self._direct("AUTOTASK_BASE_URL"),
                currency="USD",
                max_retries=5,
            ) as autotask,
        ):
            yield kantata, autotask

    def _direct(self, name: str) -> str:
        return self.env[name].replace(f":{self.tap.port}/", f":{self.tap.upstream[1]}/")

    def listed(self, pair: str, side: int) -> list[Milestone]:
        platform, container = self.containers[pair][side].split(":")
        with self.clients() as (kantata, autotask):
            client = kantata if platform == "kantata" else autotask
            return list(client.milestones.list(container))

    def sides(self, pair: str) -> tuple[list[Side], list[Side]]:
        return [Side.of(m) for m in self.listed(pair, 0)], [Side.of(m) for m in self.listed(pair, 1)]

    def seed_kantata(self, count: int = 4) -> list[Side]:
        """``count`` milestones ``K M<n>`` in the Kantata workspace ``k2k`` and ``k2at`` sync from."""
        workspace = self.containers["k2k"][0].split(":")[1]
        made = [
            Milestone(title=f"K M{n}", amount=Money(f"{200 + n}.50", "USD"), due=dt.date(2027, 2, 1 + n))
            for n in range(count)
        ]
        with self.clients() as (kantata, _):
            return [Side.of(m) for m in kantata.milestones.create(workspace, made)]

    def check(self, pair: str) -> dict[str, Any]:
        """:func:`mismatch` of the pair's two sides as the platforms list them now. A crm.com source is read
        by ``milestones plan`` (its draft is opened through the config): every action unchanged, and the
        target's titles each once."""
        if pair == "c2k":
            return self._planned_in_step(pair)
        source, target = self.sides(pair)
        own = frozenset(f"P1 M{n}" for n in range(10)) if pair == "k2at" else frozenset()
        return mismatch(source, target, besides=own)

    def _planned_in_step(self, pair: str) -> dict[str, Any]:
        argv = [sys.executable, "-m", "billing_milestones", "plan", pair, "--json", "--config", str(self.config)]
        done = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=60, check=False)
        counts = {k: v for k, v in json.loads(done.stdout)["counts"].items() if v and k != "unchanged"}
        titles = Counter(m.title for m in self.listed(pair, 1))
        found = {"planned": counts, "duplicated": sorted(t for t, n in titles.items() if n > 1)}
        return {k: v for k, v in found.items() if v}

    # -- the link store ------------------------------------------------------------------------------
    def runs(self) -> list[RunRecord]:
        with LinkStore(self.links) as store:
            return list(store.runs())  # one pair under test a rig: every run is its

    def pending(self) -> int:
        with LinkStore(self.links) as store:
            return len(store.pending())

    # -- processes -----------------------------------------------------------------------------------
    def spawn(self, argv: list[str], name: str) -> subprocess.Popen[bytes]:
        log = open(self.root / f"{name}.log", "wb")  # noqa: SIM115 - the process writes it until it ends
        proc = subprocess.Popen(
            [sys.executable, "-m", "billing_milestones", *argv, "--config", str(self.config)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text(errors="replace")

    @staticmethod
    def kill(proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL, and reaped (as init would): not a zombie whose pid still looks alive."""
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def _pair_lines(containers: dict[str, tuple[str, str]], settle: float) -> list[str]:
    lines: list[str] = []
    for name, (source, target) in containers.items():
        lines += [f"[pairs.{name}]", f'source = "{source}"', f'target = "{target}"']
        lines += [f"write_settle = {settle:g}", "allow_drop = true", ""]
    return lines


@contextlib.contextmanager
def crash_rig(
    root: Path, links: str, *, latency: float = 0.0, settle: float = WRITE_SETTLE, workers: list[str] | None = None
) -> Iterator[CrashRig]:
    """The sandbox (``--latency`` on every request when given), the tap before it and the config (every pair's
    ``write_settle`` is ``settle``); every process the rig spawned is stopped at the end, the sandbox too."""
    argv = [sys.executable, "-m", "billing_milestones", "sandbox", "serve", "--port", "0", "--json"]
    argv += ["--scale", "2x4", "--latency", f"{latency:g}"]
    sandbox = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    with contextlib.ExitStack() as stack:
        stack.callback(_stop_sandbox, sandbox)
        assert sandbox.stdout is not None
        started = json.loads(sandbox.stdout.readline())
        port = int(started["url"].rsplit(":", 1)[1])
        tap = WireTap(("127.0.0.1", port))
        stack.callback(tap.close)
        env = {k: v.replace(f":{port}/", f":{tap.port}/") for k, v in started["environment"].items()}
        seeded = started["seeded"]
        (c0, w0), (c1, w1) = seeded["scale"]["pairs"]
        erp_workspace = seeded["kantata_workspaces"][1]
        containers = {
            "at2k": (f"autotask:{c0}", f"kantata:{w0}"),
            "k2k": (f"kantata:{w1}", f"kantata:{erp_workspace}"),
            "k2at": (f"kantata:{w1}", f"autotask:{c1}"),
            "c2k": ("crmcom:website", f"kantata:{seeded['kantata_workspaces'][0]}"),
        }
        seed_config: str = seeded["config_toml"]  # the demo's crm.com draft and its stages' stories
        drafts = seed_config[seed_config.index("[crmcom.drafts.website]") : seed_config.index("[pairs.erp]")]
        stages = next(line for line in seed_config.splitlines() if line.startswith("stage_to_story"))
        text = [f"links = {json.dumps(links)}", "", "[autotask]", 'currency = "USD"', "", drafts]
        text += ["[workers]", "retries = 5", "retry_wait = 1", 'queue = "crash"', *(workers or []), ""]
        text += [*_pair_lines(containers, settle), "[pairs.c2k.triggers]", stages, ""]
        (root / "milestones.toml").write_text("\n".join(text))
        rig = CrashRig(root, links, sandbox, tap, {**os.environ, **env, "COLUMNS": "200"}, containers)
        stack.callback(rig.stop)
        yield rig


def _stop_sandbox(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    if proc.stdout is not None:
        proc.stdout.close()
