"""An mkdocs hook: the CLI reference, one page per ``milestones`` command, generated from the Typer app at build
time, so the pages cannot drift from the commands (new ones appear, removed ones vanish, options follow).

``cli/index.md`` lists the commands; ``cli/<command>.md`` (``cli/sandbox-serve.md`` for a subcommand) gives
the usage line, the command's help and a table of its arguments and options.
"""

from __future__ import annotations

import html
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

PROGRAM = "milestones"


def commands(app: Any) -> list[tuple[list[str], Any]]:
    """Every leaf command of a Typer app, with its path of names, in the order the app lists them."""
    import typer.main

    found: list[tuple[list[str], Any]] = []

    def walk(command: Any, path: list[str]) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands is None:
            found.append((path, command))
            return
        for name in sorted(subcommands):
            walk(subcommands[name], [*path, name])

    walk(typer.main.get_command(app), [])
    return found


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _first_line(text: str | None) -> str:
    return (text or "").strip().split("\n\n")[0].replace("\n", " ")


def command_page(path: list[str], command: Any) -> str:
    """One command's page: usage, help text, and its parameters as a table."""
    import typer._click as click  # the click Typer ships with (typer.core builds on it)

    name = " ".join([PROGRAM, *path])
    context = click.Context(command, info_name=name)
    usage = " ".join(command.collect_usage_pieces(context))
    lines = [f"# {name}", "", "```text", f"{name} {usage}".rstrip(), "```", "", (command.help or "").strip(), ""]
    rows = []
    for param in command.params:
        record = None if getattr(param, "hidden", False) else param.get_help_record(context)
        if record is None:
            continue
        names, text = record
        kind = "argument" if param.param_type_name == "argument" else "option"
        code = html.escape(" ".join(names.split())).replace("|", "&#124;")  # a | would split the cell
        rows.append(f"| <code>{code}</code> | {kind} | {_cell(text)} |")
    if rows:
        lines += ["| name | kind | what it does |", "| --- | --- | --- |", *rows, ""]
    lines += [f"Generated from the command itself (`{name} --help` says the same).", ""]
    return "\n".join(lines)


def index_page(found: list[tuple[list[str], Any]]) -> str:
    lines = [
        "# CLI reference",
        "",
        f'The `{PROGRAM}` command (`pip install "billing-milestones[cli]"`): one page per command, generated',
        "from the command definitions when the site is built. Exit codes are in the",
        "[sync guide](../sync.md).",
        "",
        "| command | what it does |",
        "| --- | --- |",
    ]
    for path, command in found:
        slug = "-".join(path)
        lines.append(f"| [`{PROGRAM} {' '.join(path)}`]({slug}.md) | {_cell(_first_line(command.help))} |")
    return "\n".join([*lines, ""])


def pages(app: Any) -> dict[str, str]:
    """Every generated page, by its path under docs/."""
    found = commands(app)
    out = {"cli/index.md": index_page(found)}
    for path, command in found:
        out[f"cli/{'-'.join(path)}.md"] = command_page(path, command)
    return out


def on_files(files: Files, config: MkDocsConfig) -> Files:
    from billing_milestones.cli import app

    for uri, content in pages(app).items():
        files.append(File.generated(config, uri, content=content))
    return files
