"""The end-to-end demo on the sandbox, and ``milestones sandbox serve``.

The demo seeds all three emulators, syncs crm.com -> Kantata (stages mapped to stories) and
Autotask -> Kantata (fixed dates, descriptions dropped on purpose), shows each plan, applies it with a
progress bar, shows the result, and runs both again to show there is nothing left to do.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ._render import apply_with_progress, show_result
from .autotask import AutotaskClient
from .crmcom import CrmComClient, OrderDraft
from .errors import ConfigError
from .kantata import KantataClient
from .model import Platform
from .sandbox import LoopbackServer, combined_app
from .sandbox._scale import flaky, seed_scale, served_requests
from .sandbox.autotask import AutotaskSandbox
from .sandbox.crmcom import DEMO_SECRET_KEY, CrmComSandbox
from .sandbox.kantata import DEMO_TOKEN, KantataSandbox
from .sync import LinkStore, SyncPair, SyncPlan, TriggerMap, load_sides, plan_sync

__all__ = [
    "DemoWorld",
    "build_demo_world",
    "demo_config_toml",
    "run_demo",
    "sandbox_environment",
    "sandboxes_app",
    "serve_sandboxes",
]

KANTATA_TOKEN = DEMO_TOKEN  # the one token a served Kantata sandbox accepts
#: The only hosts ``sandbox serve`` binds: its credentials are public, so it must not be reachable from outside.
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class DemoWorld:
    """Three seeded emulators and the two pairs the demo syncs."""

    crmcom: CrmComSandbox
    autotask: AutotaskSandbox
    kantata: KantataSandbox
    draft: OrderDraft
    contract_id: int
    website_workspace: str
    erp_workspace: str
    stage_to_story: dict[str, str] = field(default_factory=dict)

    def clients(self, stack: ExitStack) -> dict[Platform, Any]:
        return {
            Platform.CRMCOM: stack.enter_context(CrmComClient(DEMO_SECRET_KEY, http_client=self.crmcom.http_client())),
            Platform.AUTOTASK: stack.enter_context(
                AutotaskClient(
                    AutotaskSandbox.USERNAME,
                    AutotaskSandbox.SECRET,
                    AutotaskSandbox.INTEGRATION_CODE,
                    currency="USD",
                    http_client=self.autotask.http_client(),
                )
            ),
            Platform.KANTATA: stack.enter_context(KantataClient(KANTATA_TOKEN, http_client=self.kantata.http_client())),
        }

    def asgi_app(self) -> Any:
        """This world's three emulators on one app, for a :class:`LoopbackServer`."""
        return sandboxes_app(self.kantata, self.autotask, self.crmcom)

    def pairs(self, draft_id: str) -> list[SyncPair]:
        return [
            SyncPair(
                Platform.CRMCOM,
                draft_id,
                Platform.KANTATA,
                self.website_workspace,
                triggers=TriggerMap(stage_to_story=self.stage_to_story),
            ),
            SyncPair(Platform.AUTOTASK, str(self.contract_id), Platform.KANTATA, self.erp_workspace, allow_drop=True),
        ]


def build_demo_world() -> DemoWorld:
    """A website order on crm.com, an ERP contract on Autotask, and the two Kantata projects they bill into."""
    crm, autotask, kantata = CrmComSandbox(), AutotaskSandbox(), KantataSandbox()
    queue = crm.add_queue("Website project", [("Deposit", 30), ("Design approved", 30), ("Launched", 40)])
    product = crm.add_product("Website package", "24999.99", "USD")
    buyer = crm.add_contact("buyer@example.com")
    draft = OrderDraft.model_validate(
        {
            "account_id": buyer.account_id,
            "supply_method": "DIRECT_SALE",
            "delivery_method": "COURIER_SERVICE",
            "payment_method_type": "CARD",
            "items": [{"id": product.id, "quantity": 1}],
            "queue_id": queue.id,
        }
    )
    website = kantata.add_workspace("Website project", currency="USD")
    stage_to_story = {stage.id: kantata.add_story(website, stage.name) for stage in queue.stages}
    erp = kantata.add_workspace("ERP rollout", currency="USD")

    contract = autotask.add_contract(name="ERP rollout (fixed price)", currency="USD")
    plan = [
        ("Kick-off", "4000.00", dt.date(2027, 1, 15), "Workshops and project plan"),
        ("Data migration", "12500.50", dt.date(2027, 3, 31), None),
        ("User training", "3250.00", dt.date(2027, 5, 15), "Two sessions on site"),
        ("Go-live", "9000.00", dt.date(2027, 6, 30), None),
    ]
    for title, amount, due, description in plan:
        autotask.add_milestone(contract, title=title, amount=amount, date_due=due, description=description)
    return DemoWorld(crm, autotask, kantata, draft, contract, website, erp, stage_to_story)


def run_demo(console: Console, *, as_json: bool = False, links: Path | None = None) -> int:
    """Run the demo; 0 when both syncs applied cleanly and the second run planned nothing."""
    world = build_demo_world()
    report: dict[str, Any] = {"first_run": [], "second_run": []}
    with ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="milestones-demo-"))
        store = stack.enter_context(LinkStore(links or Path(tmp) / "links.sqlite3"))
        clients = world.clients(stack)
        draft_id = clients[Platform.CRMCOM].milestones.open_draft(world.draft)
        pairs = world.pairs(draft_id)
        if not as_json:
            console.rule("[bold]billing-milestones demo on the sandbox")
            console.print(f"link store: {store.path}")

        ok = True
        for pair in pairs:
            plan = _plan(pair, clients, store)
            if not as_json:
                console.rule(f"[bold]{pair.source.value} -> {pair.target.value}")
                console.print(plan.table())
            result = apply_with_progress(plan, clients, store, console, quiet=as_json)
            ok = ok and result.ok
            report["first_run"].append(result.to_json())
            if not as_json:
                show_result(result, console)

        if not as_json:
            console.rule("[bold]second run")
        for pair in pairs:
            again = _plan(pair, clients, store)
            report["second_run"].append({"pair": pair.id, "counts": again.counts(), "noop": again.is_noop})
            ok = ok and again.is_noop
            if not as_json:
                verdict = "[green]nothing left to do[/]" if again.is_noop else f"[red]{again.summary()}[/]"
                console.print(f"{pair.id}: {verdict}")

        if not as_json:
            console.print(_kantata_table(clients[Platform.KANTATA], [p.target_container for p in pairs]))
    report["ok"] = ok
    if as_json:
        console.print_json(json.dumps(report))
    return 0 if ok else 1


def _plan(pair: SyncPair, clients: dict[Platform, Any], store: LinkStore) -> SyncPlan:
    source, target = load_sides(pair, clients)
    return plan_sync(pair, source, target, store)


def _kantata_table(kantata: KantataClient, workspaces: list[str]) -> Table:
    table = Table(title="Kantata billing schedule after the sync")
    for column in ("workspace", "title", "amount", "due", "trigger", "status"):
        table.add_column(column)
    for workspace in workspaces:
        for m in kantata.milestones.list(workspace):
            trigger = f"{m.trigger.kind.value}:{m.trigger.ref}" if m.trigger.ref else m.trigger.kind.value
            due = m.due.isoformat() if m.due else ""
            table.add_row(workspace, escape(m.title), str(m.amount), due, trigger, m.status.value)
    return table


def demo_config_toml(world: DemoWorld, *, links: str = "milestones-links.sqlite3") -> str:
    """A ``milestones.toml`` for the seeded sandbox: the crm.com order draft and the demo's two pairs."""
    draft = world.draft.model_dump(mode="json", exclude_none=True)
    q = json.dumps  # TOML basic strings accept JSON string escapes
    lines = [f"links = {q(links)}", "", "[autotask]", 'currency = "USD"', "", "[crmcom.drafts.website]"]
    lines += [f"{key} = {q(value)}" for key, value in draft.items() if isinstance(value, str)]
    for item in draft["items"]:
        lines += ["", "[[crmcom.drafts.website.items]]", f"id = {q(item['id'])}", f"quantity = {item['quantity']}"]
    stages = ", ".join(f"{q(stage)} = {q(story)}" for stage, story in world.stage_to_story.items())
    lines += [
        "",
        "[pairs.erp]",
        f'source = "autotask:{world.contract_id}"',
        f'target = "kantata:{world.erp_workspace}"',
        "allow_drop = true",
        "",
        "[pairs.website]",
        'source = "crmcom:website"',
        f'target = "kantata:{world.website_workspace}"',
        "[pairs.website.triggers]",
        f"stage_to_story = {{ {stages} }}",
    ]
    return "\n".join(lines) + "\n"


def sandboxes_app(kantata: KantataSandbox, autotask: AutotaskSandbox, crmcom: CrmComSandbox) -> Any:
    """The three emulators as one ASGI app, under the prefixes :func:`sandbox_environment` points at."""
    return combined_app(
        {"/kantata": kantata.asgi_app(), "/autotask": autotask.asgi_app(), "/crmcom": crmcom.asgi_app()}
    )


def sandbox_environment(base: str) -> dict[str, str]:
    """The environment that points the clients (and the CLI) at sandboxes served under ``base``."""
    return {
        "KANTATA_BASE_URL": f"{base}/kantata/api/v1",
        "KANTATA_TOKEN": KANTATA_TOKEN,
        "AUTOTASK_BASE_URL": f"{base}/autotask/ATServicesRest/V1.0",
        "AUTOTASK_USERNAME": AutotaskSandbox.USERNAME,
        "AUTOTASK_SECRET": AutotaskSandbox.SECRET,
        "AUTOTASK_INTEGRATION_CODE": AutotaskSandbox.INTEGRATION_CODE,
        "CRMCOM_BASE_URL": f"{base}/crmcom",
        "CRMCOM_API_KEY": DEMO_SECRET_KEY,
        # Autotask amounts carry no currency; every seeded contract bills in USD.
        "AUTOTASK_CURRENCY": "USD",
    }


@contextmanager
def _stop_signals() -> Iterator[Callable[[], bool] | None]:
    """Whether SIGTERM (a supervisor's, a script's) or SIGINT has asked the served sandbox to stop, so it
    stops on either and says what it served; SIGINT even where it was ignored (a shell's background job
    inherits SIGINT ignored). The handlers only set a flag: one that raised could land inside the printing of
    a line (rich then wrote its buffer twice), and one that took a lock could deadlock with the main thread
    holding it. Only in the main thread, where signal handlers live (None elsewhere: Ctrl-C stays a
    KeyboardInterrupt); the previous handlers come back after."""
    if threading.current_thread() is not threading.main_thread():
        yield None
        return
    asked: list[int] = []

    def request_stop(signum: int, frame: object) -> None:
        asked.append(signum)

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield lambda: bool(asked)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


#: The config ``sandbox serve --empty`` prints above the pairs ``--scale`` seeded (Autotask bills in USD).
_BARE_CONFIG = 'links = "milestones-links.sqlite3"\n\n[autotask]\ncurrency = "USD"\n'


def serve_sandboxes(
    host: str,
    port: int,
    *,
    seed: bool,
    console: Console,
    as_json: bool = False,
    latency: float = 0.0,
    faults: float = 0.0,
    fault_seed: int = 0,
    scale: tuple[int, int] | None = None,
) -> None:
    """All three emulators on one loopback port, under /kantata, /autotask and /crmcom, until interrupted.

    ``latency`` and ``faults`` make every platform slow and flaky (``sandbox._scale.flaky``: each emulator's
    draws from its own seed, ``fault_seed`` and the next two); ``scale`` seeds that many Autotask contracts of
    that many milestones and as many empty Kantata workspaces, with their pairs in the printed config. When it
    stops it prints what each emulator served (with ``as_json``, as a second JSON line)."""
    if host not in LOOPBACK:
        raise ConfigError(
            f"--host {host}: the sandbox only binds to loopback ({', '.join(LOOPBACK)}); its credentials are public",
            key="host",
        )
    world = build_demo_world() if seed else None
    kantata = world.kantata if world else KantataSandbox()
    autotask = world.autotask if world else AutotaskSandbox()
    crm = world.crmcom if world else CrmComSandbox()
    emulators = {"autotask": autotask, "kantata": kantata, "crmcom": crm}
    for n, emulator in enumerate(emulators.values()):
        emulator.faults = flaky(fault_seed + n, latency, faults)
    scaled = seed_scale(autotask, kantata, *scale) if scale is not None else None
    try:
        server = LoopbackServer(sandboxes_app(kantata, autotask, crm), host=host, port=port)
    except ConfigError as exc:  # the sandbox names host:port and why; the flags are the CLI's to name
        raise ConfigError(f"--port {port}: {exc.message}; --port 0 picks a free one", key="port") from None
    env = sandbox_environment(server.url)
    config = demo_config_toml(world) if world else _BARE_CONFIG
    if scaled is not None:
        config += "\n" + "\n".join(scaled.config_lines())
    seeded: dict[str, Any] = (
        {
            "kantata_workspaces": [world.website_workspace, world.erp_workspace],
            "autotask_contract": world.contract_id,
            "crmcom_draft": world.draft.model_dump(mode="json", exclude_none=True),
            "stage_to_story": world.stage_to_story,
        }
        if world
        else {}
    )
    shown = config if world or scaled else None  # a config only where something was seeded
    if shown is not None:
        seeded["config_toml"] = shown
    if scaled is not None:
        seeded["scale"] = scaled.to_json()
    with server:
        try:
            # Before the first line: a script that reads it and stops the sandbox at once still gets the last.
            with _stop_signals() as stop:
                _announce(console, server.url, env, seeded if as_json else None, shown)
                server.wait(until=stop)
                stopped = stop is not None and stop()
        except KeyboardInterrupt:
            stopped = True
        if stopped:
            served = served_requests(emulators)
            if as_json:
                console.out(json.dumps({"stopped": True, "served": served}), highlight=False)
            else:
                console.print("stopped; served " + ", ".join(f"{k} {v['requests']}" for k, v in served.items()))


def _announce(
    console: Console, url: str, env: dict[str, str], seeded: dict[str, Any] | None, config: str | None
) -> None:
    """The served sandbox's first words: one JSON line for a script (``seeded`` given), else the export
    lines and the seeded data's config for a person."""
    if seeded is not None:
        # One line, so a script can read it while the server keeps running.
        console.out(json.dumps({"url": url, "environment": env, "seeded": seeded}), highlight=False)
    else:
        console.print(f"[bold]sandbox on {url}[/] (Ctrl-C to stop). Point the clients at it:")
        console.print("\n".join(f"export {k}={v}" for k, v in env.items()), highlight=False, soft_wrap=True)
        if config is not None:
            console.print("\n[bold]A milestones.toml for the seeded data[/] (then: milestones plan erp):")
            console.print(escape(config), highlight=False, soft_wrap=True)
    console.file.flush()
