"""Notebook displays: a node and an Upstream show the subgraph (SVG with graphviz, a table without); a
TrainResult shows its summary, curve and best parameters."""

from __future__ import annotations

import base64
import re
import shutil
from pathlib import Path

import pytest
from report_support import make_run

import optotrace as ot
from optotrace.trace import Upstream


def _graph():
    x = ot.node(2.0, name="x", trainable=True, description="step size")
    return x, (x * 3 + ot.node(1.0, name="offset")) / 2


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` is not installed")
def test_node_displays_the_subgraph_as_svg() -> None:
    x, y = _graph()
    svg = y._repr_svg_()
    assert svg is not None and svg.startswith("<svg") and "x (parameter)" in svg
    assert "offset" not in svg  # only the subgraph that reaches the parameter
    assert "<svg" in y._repr_html_() and "<svg" in Upstream(y)._repr_html_()


def test_without_graphviz_the_display_is_a_table(monkeypatch) -> None:
    x, y = _graph()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert y._repr_svg_() is None
    page = y._repr_html_()
    assert "<table class='ot-graph'>" in page and ">x<" in page and "truediv" in page
    assert not hasattr(x, "__dict__")  # the display mixin keeps nodes slotted (memory)


def test_train_result_displays_summary_curve_and_parameters(tmp_path: Path) -> None:
    result = make_run(tmp_path / "run", steps=3)
    page = result._repr_html_()
    assert "score before" in page and "best" in page and "steps" in page
    png = re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page).group(1)
    assert base64.b64decode(png).startswith(b"\x89PNG")
    assert "instruction" in page and "instruction" in result._repr_markdown_()


def test_train_result_without_a_run_dir_draws_its_curve(tmp_path: Path) -> None:
    result = make_run(tmp_path / "run", steps=2)
    result.run_dir = None
    assert "data:image/png;base64," in result._repr_html_()
