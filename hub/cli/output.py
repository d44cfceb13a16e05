"""Where a command's document goes: standard output ("-") or a file."""

from __future__ import annotations

import typer


def emit(text: str, out: str) -> None:
    """Write ``text`` to ``out``, or print it when ``out`` is "-"."""
    if out == "-":
        typer.echo(text, nl=False)
    else:
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)
