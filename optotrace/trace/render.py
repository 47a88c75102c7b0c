"""Pictures of a graph: `to_networkx` (a networkx.DiGraph) and `render` (SVG/PNG via graphviz, else DOT)."""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from optotrace.trace.graph import ancestors
from optotrace.trace.nodes import Node, preview

if TYPE_CHECKING:
    import networkx

_STYLE = {
    "parameter": 'shape=box, style="filled,rounded", fillcolor="#fff2b3"',
    "message": 'shape=box, style="filled", fillcolor="#dcebfa"',
    "exception": 'shape=box, style="filled", fillcolor="#f8c8c8"',
    "value": 'shape=box, style="dashed"',
}


def to_networkx(output: Node) -> networkx.DiGraph:
    """`output` and everything upstream of it as a DiGraph keyed by node id, edges parent -> child. Node
    attributes: name, kind, value (a truncated preview), description, and `node` (the Node itself)."""
    import networkx as nx

    graph = nx.DiGraph()
    nodes = ancestors(output)
    for n in nodes:
        graph.add_node(n.id, name=n.name, kind=n.kind, value=preview(n._data), description=n.description, node=n)
    for n in nodes:
        for parent in n.parents:
            graph.add_edge(parent.id, n.id)
    return graph


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(output: Node) -> str:
    """Graphviz DOT text for `output` and everything upstream of it."""
    lines = ["digraph optotrace {", '  node [fontname="Helvetica", fontsize=10];']
    nodes = ancestors(output)
    for n in nodes:
        label = f"{n.name} ({n.kind})\n{preview(n._data, 40)}"
        lines.append(f"  n{n.id} [label={_quote(label)}, {_STYLE[n.kind]}];")
    lines.extend(f"  n{parent.id} -> n{n.id};" for n in nodes for parent in n.parents)
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(output: Node, path: str | Path) -> Path:
    """Draw the graph of `output` to `path`; the suffix picks the format (.svg, .png, .pdf, .dot).
    Without the graphviz `dot` program, writes DOT text next to it (suffix .dot), warns, and returns that
    path; never raises for a missing or failing graphviz."""
    path = Path(path)
    text = to_dot(output)
    fmt = path.suffix.lstrip(".").lower() or "svg"
    if fmt in ("dot", "gv"):
        path.write_text(text)
        return path
    dot = shutil.which("dot")
    if dot is not None:
        try:
            subprocess.run([dot, f"-T{fmt}", "-o", str(path)], input=text, text=True, capture_output=True,
                           timeout=120, check=True)
            return path
        except subprocess.CalledProcessError as exc:
            reason = f"graphviz `dot -T{fmt}` failed: {exc.stderr.strip()[:200]}"
        except (OSError, subprocess.SubprocessError) as exc:
            reason = f"graphviz `dot` could not run: {exc}"
    else:
        reason = "the graphviz `dot` program is not installed"
    fallback = path.with_suffix(".dot")
    fallback.write_text(text)
    warnings.warn(f"{reason}; wrote the graph as DOT text to {fallback} instead of {path}. Install graphviz "
                  f"(apt-get install graphviz, brew install graphviz or conda install graphviz) to get {fmt}.",
                  RuntimeWarning, stacklevel=2)
    return fallback
