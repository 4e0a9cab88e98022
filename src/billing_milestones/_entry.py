"""The ``milestones`` console script: says which extra to install when the CLI's dependencies are missing."""

from __future__ import annotations

import sys

from ._extras import MissingExtraError, require


def main() -> None:
    try:
        require("cli", "typer", "rich")
    except MissingExtraError as exc:
        sys.stderr.write(f"milestones: {exc}\n")
        raise SystemExit(2) from None
    from .cli import main as cli_main

    cli_main()
