"""What a parameter receives from `output.backward(feedback)`. No LLM is involved: the feedback is the user's
feedback plus the subgraph linking the parameter to the output, which an optimizer shows its model.

A propagator is anything with `propagate(output, feedback)`. Subclass `Propagator` and override
`transform` (what each parameter gets) or `deliver` (how it joins the feedback already there).
"""

from __future__ import annotations

from numbers import Number
from typing import TYPE_CHECKING, Any

from optotrace.trace.graph import Upstream

if TYPE_CHECKING:
    from optotrace.trace.nodes import Node, ParameterNode


class FeedbackItem:
    """One piece of feedback held by a parameter. `.subgraph` (the nodes on paths from the parameter to the
    output(s), topologically ordered) is computed on first access."""

    __slots__ = ("param", "feedback", "upstreams", "_subgraph")

    def __init__(self, param: ParameterNode, feedback: Any, upstreams: tuple[Upstream, ...]) -> None:
        self.param = param
        self.feedback = feedback
        self.upstreams = upstreams
        self._subgraph: list[Node] | None = None

    @property
    def output(self) -> Node:
        """The output that was given the feedback (the latest one when feedback was aggregated)."""
        return self.upstreams[-1].output

    @property
    def outputs(self) -> tuple[Node, ...]:
        return tuple(u.output for u in self.upstreams)

    @property
    def subgraph(self) -> list[Node]:
        if self._subgraph is None:
            if len(self.upstreams) == 1:
                self._subgraph = self.upstreams[0].paths_from((self.param,))
            else:
                union = {n for u in self.upstreams for n in u.paths_from((self.param,))}
                self._subgraph = sorted(union, key=lambda n: n.id)
        return self._subgraph

    def __repr__(self) -> str:
        return f"FeedbackItem(param={self.param.name!r}, output={self.output.name!r}, feedback={self.feedback!r})"


class Propagator:
    """Gives every trainable parameter upstream of the output a FeedbackItem. One pass over the ancestors."""

    def propagate(self, output: Node, feedback: Any) -> None:
        upstream = Upstream(output)
        for param in upstream.parameters():
            item = FeedbackItem(param, self.transform(param, feedback, upstream), (upstream,))
            self.deliver(param, item)

    def transform(self, param: ParameterNode, feedback: Any, upstream: Upstream) -> Any:
        """The feedback `param` receives; the default passes the user's feedback through unchanged."""
        return feedback

    def deliver(self, param: ParameterNode, item: FeedbackItem) -> None:
        """Add `item` to the parameter's feedback; the default keeps one item per backward call."""
        param.feedback.append(item)


class GraphPropagator(Propagator):
    """The default: each parameter gets the user's feedback and its minimal subgraph, one item per output."""


class SumPropagator(Propagator):
    """Aggregates feedback from several outputs into one item per parameter: numbers are summed, text is
    joined (one line per output), anything else is combined with `+`."""

    def __init__(self, separator: str = "\n") -> None:
        self.separator = separator

    def deliver(self, param: ParameterNode, item: FeedbackItem) -> None:
        for i, old in enumerate(param.feedback):
            if isinstance(old, _SumItem):
                param.feedback[i] = _SumItem(param, self.combine(old.feedback, item.feedback),
                                             old.upstreams + item.upstreams)
                return
        param.feedback.append(_SumItem(param, item.feedback, item.upstreams))

    def combine(self, a: Any, b: Any) -> Any:
        if isinstance(a, Number) and isinstance(b, Number) and not isinstance(a, bool) and not isinstance(b, bool):
            return a + b  # type: ignore[operator]
        if isinstance(a, str) or isinstance(b, str):
            return f"{a}{self.separator}{b}"
        return a + b


class _SumItem(FeedbackItem):
    """A FeedbackItem that SumPropagator keeps merging into."""

    __slots__ = ()
