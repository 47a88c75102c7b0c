"""ModelSpec as readable mathematics: Markdown (for prompts and reports) and LaTeX."""

from __future__ import annotations

import ast

from optotrace.modeling.errors import ExpressionError
from optotrace.modeling.expressions import Factors, Terms, parse_bindings, parse_tree
from optotrace.modeling.spec import ModelSpec

_PREC = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2, ast.Pow: 4}
_REL = {"<=": r"\leq", ">=": r"\geq", "==": "="}
_CMP = {ast.Eq: "=", ast.NotEq: r"\neq", ast.Lt: "<", ast.LtE: r"\leq", ast.Gt: ">", ast.GtE: r"\geq"}


def _name(n: str) -> str:
    if len(n) == 1:
        return n
    head, _, tail = n.partition("_")
    if tail and len(head) == 1:
        return f"{head}_{{\\text{{{tail}}}}}"
    escaped = n.replace("_", "\\_")
    return rf"\mathrm{{{escaped}}}"


def latex(node: ast.AST) -> str:
    """LaTeX of one expression tree (the modeling subset)."""
    return _latex(node, 0)


def _wrap(text: str, inner: int, outer: int) -> str:
    return f"\\left({text}\\right)" if inner < outer else text


def _latex(n: ast.AST, outer: int) -> str:
    if isinstance(n, ast.Constant):
        return (
            f"\\text{{{n.value}}}"
            if isinstance(n.value, str)
            else f"{n.value:g}"
            if isinstance(n.value, float)
            else str(n.value)
        )
    if isinstance(n, ast.Name):
        return _name(n.id)
    if isinstance(n, ast.Subscript):
        parts = n.slice.elts if isinstance(n.slice, ast.Tuple) else [n.slice]
        return f"{_latex(n.value, 9)}_{{{','.join(_latex(p, 0) for p in parts)}}}"
    if isinstance(n, ast.UnaryOp):
        inner = _latex(n.operand, 3)
        return _wrap(
            f"-{inner}"
            if isinstance(n.op, ast.USub)
            else r"\neg " + inner
            if isinstance(n.op, ast.Not)
            else inner,
            3,
            outer,
        )
    if isinstance(n, Terms):
        parts = []
        for i, (s, v) in enumerate(zip(n.signs, n.values, strict=True)):
            inner = _latex(v, 1 if s > 0 else 2)
            parts.append((("-" if s < 0 else "") if i == 0 else (" - " if s < 0 else " + ")) + inner)
        return _wrap("".join(parts), 1, outer)
    if isinstance(n, Factors):
        top = [v for v, d in zip(n.values, n.divide, strict=True) if not d]
        bottom = [v for v, d in zip(n.values, n.divide, strict=True) if d]
        numerator = r" \cdot ".join(_latex(v, 2) for v in top)
        if not bottom:
            return _wrap(numerator, 2, outer)
        denominator = r" \cdot ".join(_latex(v, 2) for v in bottom)
        return f"\\frac{{{numerator}}}{{{denominator}}}"
    if isinstance(n, ast.BinOp):
        p = _PREC.get(type(n.op), 5)
        if isinstance(n.op, ast.Div):
            return f"\\frac{{{_latex(n.left, 0)}}}{{{_latex(n.right, 0)}}}"
        if isinstance(n.op, ast.Pow):
            return f"{_latex(n.left, 5)}^{{{_latex(n.right, 0)}}}"
        left, right = _latex(n.left, p), _latex(n.right, p + (not isinstance(n.op, (ast.Add, ast.Mult))))
        op = {ast.Add: " + ", ast.Sub: " - ", ast.Mult: r" \cdot "}[type(n.op)]  # type: ignore[index]
        return _wrap(left + op + right, p, outer)
    if isinstance(n, ast.Compare):
        text = _latex(n.left, 0)
        for op, c in zip(n.ops, n.comparators, strict=True):
            text += f" {_CMP.get(type(op), '?')} {_latex(c, 0)}"
        return text
    if isinstance(n, ast.BoolOp):
        joiner = r" \land " if isinstance(n.op, ast.And) else r" \lor "
        return joiner.join(_latex(v, 0) for v in n.values)
    if isinstance(n, ast.Call) and isinstance(n.func, ast.Name):
        f, args = n.func.id, n.args
        if args and isinstance(args[0], ast.GeneratorExp):
            gen = args[0]
            under = ", ".join(_binding(c) for c in gen.generators)
            big = {"sum": r"\sum", "min": r"\min", "max": r"\max"}.get(f, f)
            return _wrap(f"{big}_{{{under}}} {_latex(gen.elt, 2)}", 2, outer)
        inner = ", ".join(_latex(a, 0) for a in args)
        if f == "sqrt":
            return f"\\sqrt{{{inner}}}"
        if f == "abs":
            return f"\\left|{inner}\\right|"
        return f"\\{f}\\left({inner}\\right)"
    return ast.unparse(n)


def _binding(c: ast.comprehension) -> str:
    text = rf"{_latex(c.target, 0)} \in {_latex(c.iter, 0)}"
    for cond in c.ifs:
        text += f" : {_latex(cond, 0)}"
    return text


def _expr(text: str) -> ast.AST | None:
    try:
        return parse_tree(text, "expression")
    except ExpressionError:
        return None


def expression_latex(text: str) -> str:
    """LaTeX of an expression or constraint string (the text itself, escaped, when it does not parse)."""
    node = _expr(text)
    if node is None:
        return r"\texttt{" + text.replace("_", r"\_") + "}"
    return latex(node)


def _for_latex(text: str) -> str:
    try:
        bindings = parse_bindings(text, "for")
    except ExpressionError:
        return r"\texttt{" + text.replace("_", r"\_") + "}"
    return r"\forall " + ", ".join(_binding(c) for c in bindings.generators)


def _domain(v: object) -> str:
    lo, hi, dom = v.lower, v.upper, v.domain  # type: ignore[attr-defined]
    if dom == "binary":
        return r"\in \{0, 1\}"
    ring = r"\mathbb{Z}" if dom == "integer" else r"\mathbb{R}"
    if lo is not None and hi is not None:
        return rf"\in [{lo:g}, {hi:g}] \cap {ring}" if dom == "integer" else rf"\in [{lo:g}, {hi:g}]"
    if lo is not None:
        return rf"\geq {lo:g}" + (rf", \in {ring}" if dom == "integer" else "")
    if hi is not None:
        return rf"\leq {hi:g}" + (rf", \in {ring}" if dom == "integer" else "")
    return rf"\in {ring}"


def _var_head(v: object) -> str:
    name, index = v.name, v.index  # type: ignore[attr-defined]
    subs = ",".join(s.lower() for s in index)
    head = _name(name) + (f"_{{{subs}}}" if index else "")
    binding = ", ".join(rf"{s.lower()} \in {_name(s)}" for s in index)
    return head, binding  # type: ignore[return-value]


def spec_to_latex(spec: ModelSpec) -> str:
    """An `align*` block: the objective, the constraints (with their families) and the variable domains."""
    sense = r"\max" if spec.objective.sense == "maximize" else r"\min"
    lines = [rf"{sense} \quad & {expression_latex(spec.objective.expression)} \\"]
    first = True
    for c in spec.constraints:
        label = r"\text{s.t.} \quad" if first else r"\quad"
        first = False
        family = rf" \qquad {_for_latex(c.for_each)}" if c.for_each else ""
        name = c.name.replace("_", r"\_")
        lines.append(rf"{label} & {expression_latex(c.expression)}{family} && \text{{({name})}} \\")
    for v in spec.variables:
        head, binding = _var_head(v)
        tail = rf" \qquad \forall {binding}" if binding else ""
        lines.append(rf"& {head} {_domain(v)}{tail} \\")
    body = "\n".join(lines).rstrip("\\ \n")
    return "\\begin{align*}\n" + body + "\n\\end{align*}"


def spec_to_markdown(spec: ModelSpec) -> str:
    """Headed sections a person or a model reads easily; math in $...$ (LaTeX) next to the source text."""
    out = [f"## {spec.name}"]
    if spec.description:
        out += ["", spec.description]
    if spec.sets:
        out += ["", "**Sets**", ""]
        for s in spec.sets:
            out.append(
                f"- `{s.name}` = {{{', '.join(map(str, s.elements))}}}"
                + (f": {s.description}" if s.description else "")
            )
    if spec.data:
        out += ["", "**Data**", ""]
        for d in spec.data:
            index = f"[{', '.join(d.index)}]" if d.index else ""
            out.append(
                f"- `{d.name}{index}` = `{_compact(d.value)}`"
                + (f": {d.description}" if d.description else "")
            )
    out += ["", "**Variables**", ""]
    for v in spec.variables:
        head, binding = _var_head(v)
        where = f" for {', '.join(v.index)}" if v.index else ""
        out.append(
            f"- `{v.name}`{where}: {v.domain}, ${head} {_domain(v)}$"
            + (f": {v.description}" if v.description else "")
        )
    verb = "Maximize" if spec.objective.sense == "maximize" else "Minimize"
    out += [
        "",
        f"**{verb}**",
        "",
        f"$${expression_latex(spec.objective.expression)}$$",
        f"`{spec.objective.expression}`",
    ]
    if spec.objective.description:
        out.append(spec.objective.description)
    if spec.constraints:
        out += ["", "**Subject to**", ""]
        for c in spec.constraints:
            family = f", ${_for_latex(c.for_each)}$" if c.for_each else ""
            desc = f": {c.description}" if c.description else ""
            out.append(f"- *{c.name}*{desc}: ${expression_latex(c.expression)}${family}  (`{c.expression}`)")
    return "\n".join(out) + "\n"


def _compact(value: object) -> str:
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."
