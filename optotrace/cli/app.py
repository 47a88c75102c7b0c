"""The Typer app and its root options (--version, --debug); the command modules add their commands to it."""

from __future__ import annotations

import typer

from optotrace import __version__
from optotrace.cli.errors import ErrorReportingGroup, set_debug

app = typer.Typer(help="optotrace: optimize LLM-agent workflows.", no_args_is_help=True, add_completion=False,
                  cls=ErrorReportingGroup, pretty_exceptions_enable=False)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"optotrace {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
    debug: bool = typer.Option(False, "--debug", help="Show the full traceback of an error (or OPTOTRACE_DEBUG=1)."),
) -> None:
    """optotrace command line."""
    set_debug(ctx, debug)
