"""What every ``milestones`` command shares: the Typer apps, option types, exit codes and error mapping.

The exit codes live in one table, :data:`EXIT_CODES`: ``--help`` prints it and docs/sync.md carries the same
rows (a test compares them), so a script author reads one contract and every path keeps to it.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Final

import typer
from rich.console import Console
from rich.markup import escape

from .. import __version__, errors
from ..sync._store_config import LINKS_ENV
from ..sync.config import CONFIG_ENV, OVERRIDES, SECRETS, Settings, load_settings

__all__ = [
    "EXIT_BUSY",
    "EXIT_CODES",
    "EXIT_INTERRUPTED",
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
    "interrupted",
    "load_config",
    "sandbox_app",
    "stdout_console",
]

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3
#: The shell's convention for a process stopped by SIGINT (128 + 2), kept for every way a person stops a run.
EXIT_INTERRUPTED: Final = 130

#: Every exit code of every command, with its meaning: the one table ``--help`` and docs/sync.md show.
EXIT_CODES: Final[tuple[tuple[int, str], ...]] = (
    (EXIT_OK, "done (plan, check: nothing needs a person)"),
    (
        EXIT_PROBLEMS,
        "problems found: conflicts, duplicates not removed, failed writes, a listing that cannot be trusted, "
        "a platform error, a failed check",
    ),
    (EXIT_USAGE, "bad usage or configuration: the message names the option or key and the fix"),
    (EXIT_BUSY, "another run holds the pair's lease (sync): nothing was written"),
    (
        EXIT_INTERRUPTED,
        "stopped by you: Ctrl-C, or no / end of input at the confirm prompt; writes done are recorded and a "
        "rerun resumes",
    ),
)


def _exit_codes_help() -> str:
    """The table as help text; the leading \\b keeps click from re-flowing its rows into one paragraph."""
    rows = "\n".join(
        textwrap.fill(meaning, width=76, initial_indent=f"  {code:<4} ", subsequent_indent=" " * 7)
        for code, meaning in EXIT_CODES
    )
    return f"\b\nExit codes:\n{rows}"


def _environment_help() -> str:
    """Every variable the commands read, from the config module's own tables (so the list cannot drift)."""
    rows = [
        (CONFIG_ENV, "config file (default ./milestones.toml)"),
        (LINKS_ENV, "link store (path or postgresql://)"),
    ]
    for platform in ("kantata", "autotask", "crmcom"):
        rows += [(var, f"secret: {platform} {key}") for key, var in SECRETS[platform].items()]
        rows += [(var, f"{platform}.{key}") for key, var in OVERRIDES[platform].items()]
    width = max(len(var) for var, _ in rows)
    lines = "\n".join(f"  {var:<{width}}  {meaning}" for var, meaning in rows)
    return f"\b\nEnvironment (secrets come only from here; the rest override the file's keys):\n{lines}"


app = typer.Typer(
    name="milestones",
    help="Billing milestones on crm.com, Autotask PSA and Kantata OX: list, plan and sync them.",
    epilog=f"{_environment_help()}\n\n{_exit_codes_help()}",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"milestones (billing-milestones) {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", metavar="", is_eager=True, callback=_show_version, help="Show the version and exit."),
    ] = False,
) -> None:
    """The group itself does nothing; its one option is --version."""


sandbox_app = typer.Typer(help="Local emulators of the three APIs.", no_args_is_help=True, rich_markup_mode=None)
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
        # soft_wrap: the terminal wraps a long message, rich must not cut it into lines mid-sentence.
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


def interrupted(what: str, *, writes: int, failed: int, as_json: bool, resume: str) -> typer.Exit:
    """Report a run stopped by the person running it (Ctrl-C, no at the prompt): one line on stderr, or a
    final JSON object on stdout, saying what happened, how many writes were done and how to carry on."""
    done = f"{writes} write{'' if writes == 1 else 's'} done" + (f", {failed} failed" if failed else "")
    if as_json:
        payload = {"ok": False, "interrupted": True, "reason": what, "writes": writes, "failed": failed}
        typer.echo(json.dumps({**payload, "resume": resume}))
    else:
        Console(stderr=True, soft_wrap=True).print(f"[bold yellow]{escape(what)}:[/] {done}; {escape(resume)}")
    return typer.Exit(EXIT_INTERRUPTED)


@contextmanager
def guard(as_json: bool) -> Iterator[None]:
    """Map our errors to exit codes (see :data:`EXIT_CODES`): configuration and input problems are 2,
    platform failures 1, a held pair 3, Ctrl-C 130 (a command that writes reports its own counts first)."""
    try:
        yield
    except KeyboardInterrupt:
        raise interrupted("interrupted", writes=0, failed=0, as_json=as_json, resume="run it again") from None
    except (errors.ConfigError, errors.ValidationError) as exc:
        raise fail(str(exc), EXIT_USAGE, as_json) from None
    except errors.PairBusyError as exc:
        raise fail(str(exc), EXIT_BUSY, as_json) from None
    except errors.BillingMilestonesError as exc:
        raise fail(str(exc), EXIT_PROBLEMS, as_json) from None


def load_config(config: Path | None) -> Settings:
    """The settings every command reads (its own function so tests and commands share one path)."""
    return load_settings(config)
