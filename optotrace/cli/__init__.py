"""`optotrace ...`: the one place that wires every part together. Each command group lives in its own module
and adds its commands to the app (app.py); importing this package registers them all.

A user's mistake (any OptotraceError, or an OS error on one of their paths) ends as one line on stderr and exit
code 2 (see errors.py); `--debug` or OPTOTRACE_DEBUG=1 shows the traceback instead.
"""

from __future__ import annotations

from optotrace.cli import demo, models, optibench, resocratic, runs, train  # noqa: F401  (registers commands)
from optotrace.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    import sys

    args = sys.argv[1:]
    if "--debug" in args:  # accepted anywhere on the line, not only before the command
        args = ["--debug", *(a for a in args if a != "--debug")]
    app(args=args, prog_name="optotrace")


if __name__ == "__main__":
    main()
