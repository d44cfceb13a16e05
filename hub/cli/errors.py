"""How a ``hub`` command gives up: one red ``error:`` line on stderr, then exit code 1."""

from __future__ import annotations

from typing import NoReturn

import typer


def fail(problem: object) -> NoReturn:
    """Print ``error: PROBLEM`` in red on stderr and end the command with exit code 1.

    Args:
        problem: What went wrong: an exception or a message, shown as ``str(problem)``.

    Raises:
        typer.Exit: Always, with code 1.
    """
    typer.secho(f"error: {problem}", fg="red", err=True)
    raise typer.Exit(1)
