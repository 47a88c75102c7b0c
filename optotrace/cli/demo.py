"""`optotrace demo`: the README's main job."""

from __future__ import annotations

from optotrace.cli import app


@app.command()
def demo() -> None:
    """Run the main example with the embedded model and print the before and after scores."""
    import runpy

    runpy.run_path("examples/trace_basics.py", run_name="__main__")
