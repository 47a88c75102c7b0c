"""to_networkx, to_dot and render (with and without graphviz)."""

from __future__ import annotations

import shutil

import pytest

import optotrace as ot
from optotrace.trace import render, to_dot, to_networkx


def _graph():
    x = ot.node(2.0, name="x", trainable=True, description="step size")
    return x, (x * 3 + ot.node("a" * 300, name="long").len()) / 2


def test_to_networkx_has_nodes_edges_and_attributes() -> None:
    x, y = _graph()
    g = to_networkx(y)
    assert g.number_of_nodes() == 8 and g.has_edge(x.id, x.children[0].id)
    attrs = g.nodes[x.id]
    assert (attrs["name"], attrs["kind"], attrs["value"], attrs["description"]) == ("x", "parameter", "2.0", "step size")
    assert attrs["node"] is x and all(len(d["value"]) <= 80 for _, d in g.nodes(data=True))
    import networkx

    assert list(networkx.topological_sort(g))[-1] == y.id


def test_dot_text_escapes_labels() -> None:
    _, y = _graph()
    text = to_dot(ot.node('say "hi"\n') + y.data.__class__.__name__)
    assert text.startswith("digraph") and '\\"hi\\"' in text and "->" in text


def test_render_falls_back_to_dot_text_without_graphviz(tmp_path, monkeypatch) -> None:
    _, y = _graph()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.warns(RuntimeWarning, match="graphviz"):
        written = render(y, tmp_path / "graph.svg")
    assert written == tmp_path / "graph.dot" and written.read_text().startswith("digraph")
    assert not (tmp_path / "graph.svg").exists()


def test_render_falls_back_when_dot_fails(tmp_path, monkeypatch) -> None:
    _, y = _graph()
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\necho broken >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setattr(shutil, "which", lambda name: str(fake))
    with pytest.warns(RuntimeWarning, match="failed: broken"):
        written = render(y, tmp_path / "graph.png")
    assert written.suffix == ".dot" and written.exists()


def test_render_dot_suffix_and_real_graphviz(tmp_path) -> None:
    _, y = _graph()
    assert render(y, tmp_path / "g.dot").read_text().startswith("digraph")
    if shutil.which("dot") is None:
        pytest.skip("graphviz `dot` is not installed; the fallback is tested above")
    assert render(y, tmp_path / "g.svg").read_text().lstrip().startswith("<")
