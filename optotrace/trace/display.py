"""A graph as data and as a picture for notebooks: `graph_record` (JSON-ready nodes, edges and DOT text of the
subgraph that reached the parameters) and `GraphDisplay` (Jupyter's `_repr_html_`/`_repr_svg_` for nodes)."""

from __future__ import annotations

import html
import shutil
import subprocess
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from optotrace.trace.nodes import Node

NOTEBOOK_NODE_LIMIT = 200  # a bigger graph shows as its first nodes in a table, not a picture


def graph_nodes(output: Node) -> list[Node]:
    """The subgraph from the trainable parameters to `output`, or everything upstream when no parameter is."""
    from optotrace.trace.graph import ancestors, subgraph

    return subgraph(output) or ancestors(output)


def dot_text(nodes: list[Node]) -> str:
    """DOT text of `nodes` and the edges among them."""
    from optotrace.trace.nodes import preview
    from optotrace.trace.render import _STYLE, _quote

    ids = {n.id for n in nodes}
    lines = ["digraph optotrace {", "  rankdir=TB;", '  node [fontname="Helvetica", fontsize=10];']
    for n in nodes:
        label = f"{n.name} ({n.kind})\n{preview(n._data, 40)}"
        lines.append(f"  n{n.id} [label={_quote(label)}, {_STYLE.get(n.kind, _STYLE['value'])}];")
    lines.extend(f"  n{p.id} -> n{n.id};" for n in nodes for p in n.parents if p.id in ids)
    lines.append("}")
    return "\n".join(lines) + "\n"


def graph_record(output: Node, value_chars: int = 200) -> dict[str, Any]:
    """{"nodes": [{id, name, kind, value, description}], "edges": [[parent, child]], "dot": DOT text}."""
    from optotrace.trace.nodes import preview

    nodes = graph_nodes(output)
    ids = {n.id for n in nodes}
    return {
        "output": output.id,
        "nodes": [{"id": n.id, "name": n.name, "kind": n.kind, "value": preview(n._data, value_chars),
                   "description": n.description} for n in nodes],
        "edges": [[p.id, n.id] for n in nodes for p in n.parents if p.id in ids],
        "dot": dot_text(nodes),
    }


def dot_to_svg(dot: str, timeout: float = 30) -> str | None:
    """SVG text from graphviz `dot`, or None when it is missing or fails."""
    exe = shutil.which("dot")
    if exe is None:
        return None
    try:
        done = subprocess.run([exe, "-Tsvg"], input=dot, text=True, capture_output=True, timeout=timeout, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    text = done.stdout
    start = text.find("<svg")
    return text[start:] if start >= 0 else None


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


class GraphDisplay:
    """Jupyter display of a node: a picture of the subgraph that reaches it (a table without graphviz)."""

    __slots__ = ()

    def _display_output(self) -> Node:
        """The output whose graph is shown (the node itself; an Upstream overrides it)."""
        return self  # type: ignore[return-value]

    def _repr_svg_(self) -> str | None:
        nodes = graph_nodes(self._display_output())
        if len(nodes) > NOTEBOOK_NODE_LIMIT:
            return None
        return dot_to_svg(dot_text(nodes))

    def _repr_html_(self) -> str:
        output = self._display_output()
        svg = self._repr_svg_()
        head = f"<div><b>{html.escape(repr(output))}</b></div>"
        if svg is not None:
            return head + svg
        record = graph_record(output)
        return head + nodes_table_html(record["nodes"][:NOTEBOOK_NODE_LIMIT], record["edges"])
