"""How the command line ends on a user's mistake: one short message on stderr, exit code 2, no traceback.

Every error of optotrace's own family (OptotraceError) and every OS error (a missing, read-only or misplaced
path) raised by a command is caught here, once, by the root command group. `--debug` or OPTOTRACE_DEBUG=1
re-raises it so that the full traceback shows.
"""

from __future__ import annotations

import os
from typing import Any, NoReturn

import click
import typer
import typer.core

from optotrace.errors import OptotraceError

EXIT_USER_ERROR = 2
DEBUG_ENV = "OPTOTRACE_DEBUG"
_DEBUG_KEY = "optotrace.debug"


class UsageProblem(OptotraceError):
    """A command-line argument or option cannot be used as given; the message names it and what to do."""


def fail(message: str) -> NoReturn:
    """Stop a command with `message` (it names the option or file and what to do)."""
    raise UsageProblem(message)


def debug_enabled(ctx: click.Context | None = None) -> bool:
    if os.environ.get(DEBUG_ENV, "").strip().lower() in {"1", "true", "yes", "on"}:
        return True
    while ctx is not None:
        if ctx.meta.get(_DEBUG_KEY):
            return True
        ctx = ctx.parent
    return False


def set_debug(ctx: click.Context, value: bool) -> None:
    if value:
        ctx.meta[_DEBUG_KEY] = True


def describe(exc: BaseException) -> str:
    """One line for the user: what went wrong, naming the file, and what to do."""
    if isinstance(exc, OSError) and not isinstance(exc, OptotraceError) and exc.filename is not None:
        path = exc.filename
        what = exc.strerror or exc.__class__.__name__
        hints = {
            FileNotFoundError: "check the path",
            PermissionError: "choose a writable location or fix the permissions",
            NotADirectoryError: "a file stands where a directory is needed; choose another path",
            IsADirectoryError: "a directory stands where a file is needed; choose another path",
            FileExistsError: "choose another path or remove it",
        }
        hint = next((h for kind, h in hints.items() if isinstance(exc, kind)), "check the path and the disk")
        where = f" {path}" + (f" -> {exc.filename2}" if exc.filename2 is not None else "")
        return f"{what}:{where} ({hint})"
    text = " ".join(str(exc).split()) if not isinstance(exc, OptotraceError) else str(exc).strip()
    return text or exc.__class__.__name__


class ErrorReportingGroup(typer.core.TyperGroup):
    """The root command group: turns a user's mistake anywhere below it into one message and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (OptotraceError, OSError) as exc:
            if debug_enabled(ctx):
                raise
            click.echo(f"error: {describe(exc)}", err=True)
            raise typer.Exit(EXIT_USER_ERROR) from None
        except KeyboardInterrupt:
            if debug_enabled(ctx):
                raise
            click.echo("interrupted", err=True)
            raise typer.Exit(130) from None
