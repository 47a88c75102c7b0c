"""The search space of BayesOpt: one dimension per numeric or categorical ParameterNode.

A float or an int needs bounds: given explicitly (`bounds={"temperature": (0.0, 2.0)}`) or written in the node's
constraint or description as `[lo, hi]`, `between lo and hi` or `lo <= x <= hi`. A categorical parameter (a choice
among strategies) is declared by its choices (`choices={"strategy": ["greedy", "beam"]}`) or a constraint
`one of ["greedy", "beam"]`. Points are encoded into the unit cube for the GP: a float or int maps linearly
(log-scaled with `log_scale`), a categorical becomes one coordinate per choice (one-hot).
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from optotrace.optimizers.errors import OptimizerError

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_BOUND_PATTERNS = [
    re.compile(rf"[\[(]\s*({_NUM})\s*,\s*({_NUM})\s*[\])]"),
    re.compile(rf"between\s+({_NUM})\s+and\s+({_NUM})", re.I),
    re.compile(rf"({_NUM})\s*<=?\s*\w*\s*<=?\s*({_NUM})"),
]
_CHOICES = re.compile(r"one of\s*(\[.*?\])", re.I | re.S)


@dataclass
class Dimension:
    name: str
    kind: str  # float | int | choice
    low: float = 0.0
    high: float = 1.0
    choices: list[Any] = field(default_factory=list)
    log_scale: bool = False

    @property
    def width(self) -> int:
        return len(self.choices) if self.kind == "choice" else 1

    def encode(self, value: Any) -> list[float]:
        if self.kind == "choice":
            return [1.0 if _same(c, value) else 0.0 for c in self.choices]
        lo, hi, v = self.low, self.high, float(value)
        if self.log_scale:
            lo, hi, v = math.log(lo), math.log(hi), math.log(max(v, self.low))
        return [min(1.0, max(0.0, (v - lo) / (hi - lo)))]

    def decode(self, coords: Sequence[float]) -> Any:
        if self.kind == "choice":
            return self.choices[max(range(len(coords)), key=lambda i: coords[i])]
        u = min(1.0, max(0.0, float(coords[0])))
        lo, hi = (math.log(self.low), math.log(self.high)) if self.log_scale else (self.low, self.high)
        v = lo + u * (hi - lo)
        v = math.exp(v) if self.log_scale else v
        if self.kind == "int":
            return int(min(self.high, max(self.low, round(v))))
        return float(min(self.high, max(self.low, v)))


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b or (isinstance(a, str) and a == b)


def bounds_from_text(text: str) -> tuple[float, float] | None:
    for pattern in _BOUND_PATTERNS:
        m = pattern.search(text)
        if m:
            lo, hi = float(m.group(1)), float(m.group(2))
            if lo < hi:
                return lo, hi
    return None


def choices_from_text(text: str) -> list[Any] | None:
    m = _CHOICES.search(text)
    if not m:
        return None
    try:
        value = ast.literal_eval(m.group(1))
    except (ValueError, SyntaxError):
        return None
    return list(value) if isinstance(value, (list, tuple)) and value else None


class Space:
    """The dimensions of the parameters, in the optimizer's order; encode/decode points to/from the unit cube."""

    def __init__(self, dims: list[Dimension]) -> None:
        self.dims = dims

    @classmethod
    def from_parameters(
        cls,
        names: Sequence[str],
        params: Sequence[Any],
        bounds: Mapping[str, tuple[float, float]] | None = None,
        choices: Mapping[str, Sequence[Any]] | None = None,
        log_scale: Sequence[str] = (),
    ) -> Space:
        bounds, choices = dict(bounds or {}), dict(choices or {})
        unknown = (set(bounds) | set(choices) | set(log_scale)) - set(names)
        if unknown:
            raise OptimizerError(
                f"bounds/choices/log_scale name {sorted(unknown)}, which are not parameters of this optimizer "
                f"(it has {list(names)}); use the parameters' names"
            )
        return cls([_dimension(n, p, bounds.get(n), choices.get(n), n in log_scale)
                    for n, p in zip(names, params, strict=True)])

    @property
    def width(self) -> int:
        return sum(d.width for d in self.dims)

    def encode(self, values: Mapping[str, Any]) -> list[float]:
        out: list[float] = []
        for d in self.dims:
            out.extend(d.encode(values[d.name]))
        return out

    def decode(self, coords: Sequence[float]) -> dict[str, Any]:
        out, i = {}, 0
        for d in self.dims:
            out[d.name] = d.decode(coords[i : i + d.width])
            i += d.width
        return out

    def snap(self, rows: Any) -> Any:
        """Unit-cube rows (a torch tensor, n x width) moved to the nearest valid points: ints rounded, a
        categorical's block made one-hot at its largest coordinate."""
        import torch

        rows = rows.clamp(0, 1).clone()
        i = 0
        for d in self.dims:
            if d.kind == "choice":
                block = rows[:, i : i + d.width]
                rows[:, i : i + d.width] = torch.nn.functional.one_hot(block.argmax(1), d.width).to(rows.dtype)
            elif d.kind == "int":
                rows[:, i] = torch.tensor([d.encode(d.decode([u]))[0] for u in rows[:, i].tolist()], dtype=rows.dtype)
            i += d.width
        return rows

    def to_json(self) -> list[dict[str, Any]]:
        return [{"name": d.name, "kind": d.kind, "low": d.low, "high": d.high, "choices": d.choices,
                 "log_scale": d.log_scale} for d in self.dims]


def _dimension(name: str, p: Any, bound: tuple[float, float] | None, options: Sequence[Any] | None,
               log: bool) -> Dimension:
    value = p.data
    text = " ".join(str(t) for t in (p.constraint if isinstance(p.constraint, str) else "", p.description) if t)
    if options is None and not isinstance(value, (int, float)):
        options = choices_from_text(text)
    if options is not None:
        options = list(options)
        if len(options) < 2:
            raise OptimizerError(f"parameter {name!r} needs at least two choices, got {options}")
        if not any(_same(c, value) for c in options):
            raise OptimizerError(f"parameter {name!r} has the value {value!r}, which is not among its choices "
                                 f"{options}; add it or start from one of them")
        return Dimension(name, "choice", choices=options)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise OptimizerError(
            f"parameter {name!r} holds a {type(value).__name__}, not a number; BayesOpt tunes floats, ints and "
            f"categorical choices: give choices={{{name!r}: [...]}} or pass this parameter to OptoPrime instead"
        )
    if bound is None:
        bound = bounds_from_text(text)
    if bound is None:
        raise OptimizerError(
            f"parameter {name!r} has no bounds; pass bounds={{{name!r}: (low, high)}} or write '[low, high]' "
            "in its constraint or description"
        )
    lo, hi = float(bound[0]), float(bound[1])
    if not lo < hi:
        raise OptimizerError(f"bounds of {name!r} must have low < high, got ({lo}, {hi})")
    if log and lo <= 0:
        raise OptimizerError(f"parameter {name!r} is log-scaled, so its lower bound must be > 0, got {lo}")
    return Dimension(name, "int" if isinstance(value, int) else "float", lo, hi, log_scale=log)
