"""`optotrace ...`: the one place that wires every part together. Each command group lives in its own module.

A user's mistake (any OptotraceError, or an OS error on one of their paths) ends as one line on stderr and exit
code 2 (see errors.py); `--debug` or OPTOTRACE_DEBUG=1 shows the traceback instead.
"""

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


def _register() -> None:
    # Command groups; each module adds its commands to `app` or returns a sub-app.
    from optotrace.cli import demo, models, optibench, resocratic, runs, train  # noqa: F401


_register()


def main() -> None:
    import sys

    args = sys.argv[1:]
    if "--debug" in args:  # accepted anywhere on the line, not only before the command
        args = ["--debug", *(a for a in args if a != "--debug")]
    app(args=args, prog_name="optotrace")


if __name__ == "__main__":
    main()
