"""Pictures of a graph: `to_networkx` (a networkx.DiGraph), DOT text (`to_dot`, `dot_text`), `render` (a file
via graphviz, else DOT), `graph_record` (JSON-ready nodes, edges and DOT of the subgraph that reaches the
parameters) and the notebook display of a node (`notebook_svg`, `notebook_html`: a table without graphviz)."""

from __future__ import annotations

import html
import shutil
import subprocess
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optotrace.trace.graph import ancestors, subgraph
from optotrace.trace.nodes import Node, preview

if TYPE_CHECKING:
    import networkx

NOTEBOOK_NODE_LIMIT = 200  # a bigger graph shows as its first nodes in a table, not a picture

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


def dot_text(nodes: list[Node]) -> str:
    """Graphviz DOT text of `nodes` and the edges among them."""
    ids = {n.id for n in nodes}
    lines = ["digraph optotrace {", "  rankdir=TB;", '  node [fontname="Helvetica", fontsize=10];']
    for n in nodes:
        label = f"{n.name} ({n.kind})\n{preview(n._data, 40)}"
        lines.append(f"  n{n.id} [label={_quote(label)}, {_STYLE.get(n.kind, _STYLE['value'])}];")
    lines.extend(f"  n{p.id} -> n{n.id};" for n in nodes for p in n.parents if p.id in ids)
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_dot(output: Node) -> str:
    """Graphviz DOT text for `output` and everything upstream of it."""
    return dot_text(ancestors(output))


def graph_nodes(output: Node) -> list[Node]:
    """The subgraph from the trainable parameters to `output`, or everything upstream when no parameter is."""
    return subgraph(output) or ancestors(output)


def graph_record(output: Node, value_chars: int = 200) -> dict[str, Any]:
    """{"nodes": [{id, name, kind, value, description}], "edges": [[parent, child]], "dot": DOT text}."""
    nodes = graph_nodes(output)
    ids = {n.id for n in nodes}
    return {
        "output": output.id,
        "nodes": [{"id": n.id, "name": n.name, "kind": n.kind, "value": preview(n._data, value_chars),
                   "description": n.description} for n in nodes],
        "edges": [[p.id, n.id] for n in nodes for p in n.parents if p.id in ids],
        "dot": dot_text(nodes),
    }


def _run_dot(dot: str, args: list[str], timeout: float) -> tuple[str | None, str]:
    """Graphviz `dot` on `dot` text: (its stdout, "") or (None, why it did not run)."""
    exe = shutil.which("dot")
    if exe is None:
        return None, "the graphviz `dot` program is not installed"
    try:
        done = subprocess.run([exe, *args], input=dot, text=True, capture_output=True, timeout=timeout, check=True)
    except subprocess.CalledProcessError as exc:
        return None, f"graphviz `dot {' '.join(args[:1])}` failed: {exc.stderr.strip()[:200]}"
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"graphviz `dot` could not run: {exc}"
    return done.stdout, ""


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
    written, reason = _run_dot(text, [f"-T{fmt}", "-o", str(path)], timeout=120)
    if written is not None:
        return path
    fallback = path.with_suffix(".dot")
    fallback.write_text(text)
    warnings.warn(f"{reason}; wrote the graph as DOT text to {fallback} instead of {path}. Install graphviz "
                  f"(apt-get install graphviz, brew install graphviz or conda install graphviz) to get {fmt}.",
                  RuntimeWarning, stacklevel=2)
    return fallback


def dot_to_svg(dot: str, timeout: float = 30) -> str | None:
    """SVG text from graphviz `dot`, or None when it is missing or fails."""
    text, _ = _run_dot(dot, ["-Tsvg"], timeout)
    start = -1 if text is None else text.find("<svg")
    return text[start:] if text is not None and start >= 0 else None


def nodes_table_html(nodes: list[dict[str, Any]], edges: list[list[int]]) -> str:
    """The graph as an HTML table: one row per node with its parents (for when graphviz is absent)."""
    names = {n["id"]: n["name"] for n in nodes}
    parents: dict[int, list[str]] = {}
    for p, c in edges:
        parents.setdefault(c, []).append(names.get(p, str(p)))
    rows = "".join(
        f"<tr><td>{html.escape(str(n['name']))}</td><td>{html.escape(str(n['kind']))}</td>"
        f"<td><code>{html.escape(str(n['value']))}</code></td>"
        f"<td>{html.escape(', '.join(parents.get(n['id'], [])))}</td></tr>"
        for n in nodes)
    return ("<table class='ot-graph'><thead><tr><th>node</th><th>kind</th><th>value</th><th>parents</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>")


def notebook_svg(output: Node) -> str | None:
    """A picture of the subgraph that reaches `output`; None without graphviz or when it is too big."""
    nodes = graph_nodes(output)
    if len(nodes) > NOTEBOOK_NODE_LIMIT:
        return None
    return dot_to_svg(dot_text(nodes))


def notebook_html(output: Node) -> str:
    """Jupyter's view of `output`: its repr above the picture, or above a table of the first nodes."""
    head = f"<div><b>{html.escape(repr(output))}</b></div>"
    svg = notebook_svg(output)
    if svg is not None:
        return head + svg
    record = graph_record(output)
    return head + nodes_table_html(record["nodes"][:NOTEBOOK_NODE_LIMIT], record["edges"])
