"""Values of the requested labels from a solved ModelSpec: "objective", "x", "x[a]" or arithmetic over them."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from typing import Any

_BIN: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv, ast.Pow: operator.pow,
}


def _key(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant):
        return str(node.value)
    if isinstance(node, ast.Tuple):
        return ",".join(_key(e) for e in node.elts)
    raise ValueError(f"unsupported index {ast.dump(node)}")


def evaluate_target(target: str, values: Mapping[str, float], objective: float | None) -> float:
    """The number a report target stands for; ValueError (with the reason) when it cannot be computed."""
    text = target.strip()
    if text.lower() == "objective":
        if objective is None:
            raise ValueError("the model has no objective value")
        return float(objective)
    if text in values:
        return float(values[text])

    def ev(node: ast.expr) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id == "objective" and objective is not None:
                return float(objective)
            if node.id in values:
                return float(values[node.id])
            raise ValueError(f"'{node.id}' is not a variable of the model")
        if isinstance(node, ast.Subscript):
            key = f"{_key(node.value)}[{_key(node.slice)}]"
            if key in values:
                return float(values[key])
            raise ValueError(f"'{key}' is not a variable of the model")
        if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
            return _BIN[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        raise ValueError(f"unsupported expression {ast.unparse(node)!r}")

    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"'{text}' is not an expression: {exc.msg}") from None
    return ev(tree.body)


def report_values(report: Mapping[str, str], labels: list[str], values: Mapping[str, float], objective: float | None) -> tuple[dict[str, float | None], list[str]]:
    """({label: value}, problems). Labels missing from the report or not computable are None, with a reason."""
    out: dict[str, float | None] = {}
    problems: list[str] = []
    lowered = {k.strip().lower().rstrip(":"): v for k, v in report.items()}
    for label in labels:
        target: Any = report.get(label, lowered.get(label.strip().lower().rstrip(":")))
        if target is None:
            out[label] = None
            problems.append(f"the report gives no target for '{label}'")
            continue
        try:
            out[label] = evaluate_target(str(target), values, objective)
        except (ValueError, ZeroDivisionError, OverflowError) as exc:
            out[label] = None
            problems.append(f"'{label}' -> '{target}': {exc}")
    return out, problems
