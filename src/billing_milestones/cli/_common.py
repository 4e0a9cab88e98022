"""What every ``milestones`` command shares: the Typer apps, option types, exit codes and error mapping.

Exit codes: 0 done; 1 the sync found problems (conflicts, duplicates, failed writes, a listing that cannot be
trusted, a platform error); 2 bad usage or configuration; 3 another run holds the pair (nothing written).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from .. import errors
from ..sync.config import Settings, load_settings

__all__ = [
    "EXIT_BUSY",
    "EXIT_OK",
    "EXIT_PROBLEMS",
    "EXIT_USAGE",
    "ConfigOpt",
    "FixDuplicatesOpt",
    "JsonOpt",
    "MassDeleteOpt",
    "OutputFormat",
    "app",
    "fail",
    "guard",
    "load_config",
    "sandbox_app",
    "stdout_console",
]

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3

app = typer.Typer(
    name="milestones",
    help=(
        "Billing milestones on crm.com, Autotask PSA and Kantata OX: list, plan and sync them.\n\n"
        "Exit codes: 0 done; 1 problems found (conflicts, duplicates, failed writes, untrustworthy listings); "
        "2 bad usage or configuration; 3 another run holds the pair, nothing was written."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
sandbox_app = typer.Typer(help="Local emulators of the three APIs.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="TOML config file (default: $MILESTONES_CONFIG, ./milestones.toml)"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
FixDuplicatesOpt = Annotated[
    bool,
    typer.Option("--fix-duplicates", help="Remove extra target copies of a milestone where the platform can delete."),
]
MassDeleteOpt = Annotated[
    bool,
    typer.Option("--allow-mass-delete", help="Allow deleting more than the pair's max_delete_share of its links."),
]


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def stdout_console() -> Console:
    """Output for people; never soft-wrapped, so tables keep their shape when piped."""
    return Console(stderr=False, soft_wrap=False)


def fail(message: str, code: int, as_json: bool) -> typer.Exit:
    """Report an error on stderr (or as a JSON object on stdout) and return the exit to raise."""
    if as_json:
        typer.echo(json.dumps({"ok": False, "error": message}))
    else:
        Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


@contextmanager
def guard(as_json: bool) -> Iterator[None]:
    """Map our errors to exit codes: configuration and input problems are 2, platform failures 1."""
    try:
        yield
    except (errors.ConfigError, errors.ValidationError) as exc:
        raise fail(str(exc), EXIT_USAGE, as_json) from None
    except errors.PairBusyError as exc:
        raise fail(str(exc), EXIT_BUSY, as_json) from None
    except errors.BillingMilestonesError as exc:
        raise fail(str(exc), EXIT_PROBLEMS, as_json) from None


def load_config(config: Path | None) -> Settings:
    """The settings every command reads (its own function so tests and commands share one path)."""
    return load_settings(config)
