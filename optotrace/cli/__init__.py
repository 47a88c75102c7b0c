"""`optotrace ...`: the one place that wires every part together. Each command group lives in its own module."""

from __future__ import annotations

import typer

from optotrace import __version__

app = typer.Typer(help="optotrace: optimize LLM-agent workflows.", no_args_is_help=True, add_completion=False)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"optotrace {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """optotrace command line."""


def _register() -> None:
    # Command groups; each module adds its commands to `app` or returns a sub-app.
    from optotrace.cli import demo, models, optibench, resocratic, runs, train  # noqa: F401


_register()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
