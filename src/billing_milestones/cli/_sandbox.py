"""``milestones sandbox serve`` and ``milestones demo``: the emulators, on a port or in-process."""

from __future__ import annotations

from typing import Annotated

import typer

from ._common import JsonOpt, app, guard, sandbox_app, stdout_console

__all__ = ["demo_command", "sandbox_serve"]


@sandbox_app.command("serve")
def sandbox_serve(
    host: Annotated[str, typer.Option(help="Loopback address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0 picks a free one)")] = 8765,
    seed: Annotated[bool, typer.Option("--seed/--empty", help="Seed demo data")] = True,
    latency: Annotated[float, typer.Option(help="Seconds added to every request, on every platform (up to 60)")] = 0.0,
    faults: Annotated[
        float, typer.Option(help="Share of requests answered 503 (0 to below 1), drawn from --fault-seed")
    ] = 0.0,
    fault_seed: Annotated[int, typer.Option(help="Seed of the fault draws (the same seed, the same faults)")] = 0,
    scale: Annotated[
        str | None,
        typer.Option(
            metavar="PAIRSxMILESTONES",
            help="Also seed that many Autotask contracts of that many milestones, and as many empty Kantata "
            "workspaces; their pairs are in the printed config",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run all three emulators on one loopback port until interrupted (Ctrl-C or SIGTERM), then say what each
    served: requests, statuses, faults injected and requests its own limits refused."""
    from ..demo import serve_sandboxes
    from ..sandbox._scale import parse_scale

    with guard(as_json):
        serve_sandboxes(
            host,
            port,
            seed=seed,
            console=stdout_console(),
            as_json=as_json,
            latency=latency,
            faults=faults,
            fault_seed=fault_seed,
            scale=parse_scale(scale) if scale is not None else None,
        )


@app.command("demo")
def demo_command(as_json: JsonOpt = False) -> None:
    """Seed the sandbox, sync crm.com -> Kantata and Autotask -> Kantata, then show a second run has nothing to do."""
    from ..demo import run_demo

    with guard(as_json):
        code = run_demo(stdout_console(), as_json=as_json)
    raise typer.Exit(code)
