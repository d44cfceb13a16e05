"""How a ``hub`` command gives up: one red ``error:`` line on stderr, then exit code 1."""

from __future__ import annotations

from typing import NoReturn

import typer


def say_error(problem: object) -> None:
    """Print ``error: PROBLEM`` in red on stderr."""
    typer.secho(f"error: {problem}", fg="red", err=True)


def fail(problem: object) -> NoReturn:
    """Print ``error: PROBLEM`` in red on stderr and end the command with exit code 1.

    Args:
        problem: What went wrong: an exception or a message, shown as ``str(problem)``.

    Raises:
        typer.Exit: Always, with code 1.
    """
    say_error(problem)
    raise typer.Exit(1)
