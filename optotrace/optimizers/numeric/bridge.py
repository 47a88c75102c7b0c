"""The trace bridge: ParameterNodes holding floats or tensors, optimized by the numeric optimizers.

    w = ot.node(0.5, name="w", trainable=True)            # a float (or a torch tensor)
    opt = NumericOptimizerAdapter([w], Lion, lr=1e-2)      # or ZOSGD/DeepZero with objective=...
    opt.zero_feedback()                                    # binds leaf tensors into the nodes
    loss = workflow(x)                                     # traced ops compute on w.data: autograd flows
    loss.backward("score")                                 # trace feedback, as for the LLM optimizers
    update = opt.step()                                    # {w: new float}; floats stay floats

Gradient path: `zero_feedback()` puts a leaf tensor (requires_grad) into each node, so a workflow whose
operators compute on tensors records an autograd graph; `step()` backpropagates the scalar tensor loss it
finds in the parameters' feedback (the feedback value itself, or the output node's data), or the `loss=` given,
steps the torch optimizer and writes the values back with `node.set()`. The loss is `step(loss=)` when given,
else the mean of the distinct scalar tensors (with a graph) found as feedback values on the parameters (the
feedback itself, or a dict's "loss" / a tuple element beside text meant for LLM optimizers): a Trainer metric
returns e.g. `(score, {"text": "too low", "loss": (output.data - target) ** 2})`. Between `zero_feedback()` and `step()` the
nodes hold the leaf tensors (0-d tensors for floats); `step()` puts plain floats back, and so does `release()`
(a loop that ends with `zero_feedback()`, like the Trainer's, leaves the leaf tensors bound until then).
Zeroth-order path (ZOSGD, DeepZero, or any optimizer when `objective=` is given and no gradient exists):
`step()` evaluates `objective()` (the workflow's scalar score, as plain values, with tracing off) at the points
the optimizer asks for.
Modules: K-FAC and MKOR precondition nn.Linear / nn.Conv2d layers, so they need the model: give nodes that hold the
module's own nn.Parameters (`ot.node(layer.weight, trainable=True)`; such a tensor is stepped in place, shared with
its module, not copied) and `model=` the module: `NumericOptimizerAdapter([w, b], KFAC, model=layer)`.
The adapter has the LLM optimizers' surface (`params`, `zero_feedback()`, `step() -> {param: value}`,
JSON `state_dict()`), so a Trainer can hold an OptoPrime over text/code and an adapter over numbers at once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import torch
from torch import Tensor

from optotrace.optimizers.numeric._json_state import from_json, to_json
from optotrace.optimizers.numeric.deepzero import DeepZero
from optotrace.optimizers.numeric.errors import NumericOptimizerError
from optotrace.optimizers.numeric.zosgd import ZOSGD, loss_value


class TensorParameters:
    """Leaf tensors (requires_grad) standing in for ParameterNodes that hold floats or floating tensors.

    Floats become 0-d float64 tensors and come back as Python floats; tensors keep dtype and device. A module's
    nn.Parameter is used itself (updated in place, so its module sees each step), any other tensor is copied.
    """

    def __init__(self, nodes: Iterable[Any]) -> None:
        self.nodes = list(nodes)
        if not self.nodes:
            raise NumericOptimizerError("TensorParameters got no parameters; pass ParameterNodes holding numbers")
        self.kinds: list[str] = []
        self.tensors: list[Tensor] = []
        for node in self.nodes:
            if not hasattr(node, "set"):
                raise NumericOptimizerError(f"{node!r} is not a ParameterNode (it has no .set); use node(..., trainable=True)")
            kind, tensor = _to_leaf(node)
            self.kinds.append(kind)
            self.tensors.append(tensor)

    def values(self) -> list[Any]:
        """The current values as the nodes should hold them (floats as floats, detached tensor copies)."""
        return [float(t.detach()) if k == "float" else t.detach().clone() for k, t in zip(self.kinds, self.tensors, strict=True)]

    def bind(self, differentiable: bool = True) -> None:
        """Put the leaf tensors (differentiable) or plain values into the nodes, for the next workflow run."""
        for node, kind, t in zip(self.nodes, self.kinds, self.tensors, strict=True):
            if differentiable:
                node.set(t)
            else:
                node.set(float(t.detach()) if kind == "float" else t.detach())

    def write_back(self) -> dict[Any, Any]:
        """node.set(value) for every node; returns {node: value}."""
        update = dict(zip(self.nodes, self.values(), strict=True))
        for node, value in update.items():
            node.set(value)
        return update

    def pull(self) -> None:
        """Copy the nodes' current values into the tensors (after something else set a node)."""
        with torch.no_grad():
            for node, t in zip(self.nodes, self.tensors, strict=True):
                value = _raw(node)
                if value is t:
                    continue
                t.copy_(torch.as_tensor(value, dtype=t.dtype, device=t.device))

    @contextlib.contextmanager
    def bound(self, differentiable: bool = True) -> Iterator[list[Tensor]]:
        """Bind for the block, write the plain values back after it."""
        self.bind(differentiable)
        try:
            yield self.tensors
        finally:
            self.write_back()


def torch_params(nodes: Iterable[Any]) -> TensorParameters:
    """TensorParameters over `nodes` (its `.tensors` go to any torch optimizer)."""
    return TensorParameters(nodes)


def _is_loss(value: Any) -> bool:
    return isinstance(value, Tensor) and value.requires_grad and value.numel() == 1


def _loss_in(feedback: Any) -> Tensor | None:
    """The loss tensor in a feedback value: the value itself, a dict's "loss" (or any tensor value), or a
    tuple/list element, so one feedback can carry text for LLM optimizers and the loss for numeric ones."""
    if _is_loss(feedback):
        return feedback
    if isinstance(feedback, dict):
        if _is_loss(feedback.get("loss")):
            return feedback["loss"]
        feedback = list(feedback.values())
    if isinstance(feedback, (list, tuple)):
        for value in feedback:
            if _is_loss(value):
                return value
    return None


def _raw(node: Any) -> Any:
    return node._data if hasattr(node, "_data") else node.data


def _to_leaf(node: Any) -> tuple[str, Tensor]:
    value = _raw(node)
    if isinstance(value, Tensor):
        if not value.is_floating_point():
            raise NumericOptimizerError(f"parameter {getattr(node, 'name', node)!r} holds a {value.dtype} tensor; "
                                        "numeric optimizers need a floating tensor")
        if isinstance(value, torch.nn.Parameter):
            return "tensor", value  # shared with its module (K-FAC and MKOR hook the module's layers)
        return "tensor", value.detach().clone().requires_grad_(True)
    if isinstance(value, float):
        return "float", torch.tensor(value, dtype=torch.float64, requires_grad=True)
    raise NumericOptimizerError(
        f"parameter {getattr(node, 'name', node)!r} holds a {type(value).__name__}; numeric optimizers take "
        "floats and floating tensors (give ints as floats, text and code to an LLM optimizer)"
    )


class NumericOptimizerAdapter:
    """A torch optimizer over ParameterNodes with the LLM optimizers' interface.

    `optimizer` is a numeric optimizer class (or any torch.optim.Optimizer class) built over the leaf tensors
    with `**options`. `objective` (no arguments -> float) is the workflow's scalar score for zeroth-order steps;
    `maximize=True` when higher is better (the optimizers minimize). `hessian_interval` (SophiaH) is how often
    `step()` refreshes the Hessian estimate.
    """

    def __init__(
        self,
        params: Iterable[Any] | TensorParameters,
        optimizer: Callable[..., torch.optim.Optimizer],
        *,
        objective: Callable[[], float | Tensor] | None = None,
        maximize: bool = False,
        **options: Any,
    ) -> None:
        self.tensors = params if isinstance(params, TensorParameters) else TensorParameters(params)
        self.optimizer = optimizer(self.tensors.tensors, **options)
        self.objective = objective
        self.maximize = maximize
        self.zeroth_order = isinstance(self.optimizer, (ZOSGD, DeepZero))
        if self.zeroth_order and objective is None:
            raise NumericOptimizerError(
                f"{type(self.optimizer).__name__} is zeroth-order: give objective=, a function that runs the "
                "workflow and returns its scalar score"
            )
        self.step_count = 0

    @property
    def params(self) -> list[Any]:
        return self.tensors.nodes

    def parameters(self) -> list[Any]:
        return self.tensors.nodes

    # -- the LLM optimizers' surface ----------------------------------------------------------------------------
    def zero_feedback(self) -> None:
        """Clear feedback and gradients; bind leaf tensors into the nodes for a differentiable next run."""
        for node in self.tensors.nodes:
            if hasattr(node, "zero_feedback"):
                node.zero_feedback()
        self.tensors.pull()
        self.optimizer.zero_grad(set_to_none=True)
        if not self.zeroth_order:
            self.tensors.bind(differentiable=True)

    def step(self, loss: Tensor | None = None) -> dict[Any, Any]:
        """Step the optimizer; returns {param: new value} (values written back with node.set)."""
        if self.zeroth_order:
            self.tensors.pull()
            self.optimizer.step(self._closure)
        else:
            self._gradient_step(loss)
        self.step_count += 1
        return self.tensors.write_back()

    def release(self) -> dict[Any, Any]:
        """Put plain values (floats as floats) back into the nodes after a `zero_feedback()` that bound leaf
        tensors, e.g. at the end of a training loop; returns {param: value}."""
        return self.tensors.write_back()

    # -- the Trainer's contract (optotrace/optimizers/contract.py: TrainableOptimizer) -------------------------
    def end_step(self, result: Any = None) -> None:
        """The Trainer's step is over: plain values back into the nodes, for checkpoints."""
        self.release()

    @property
    def usage(self) -> None:
        """A torch optimizer calls no model."""
        return None

    def _gradient_step(self, loss: Tensor | None) -> None:
        from optotrace.optimizers.numeric.adahessian import AdaHessian
        from optotrace.optimizers.numeric.sophia_h import SophiaH

        opt = self.optimizer
        have_grads = any(t.grad is not None for t in self.tensors.tensors)
        if not have_grads:
            loss = loss if loss is not None else self._find_loss()
            if loss is None:
                if self.objective is not None:
                    raise NumericOptimizerError(
                        "no gradient reached the parameters (the workflow is not differentiable); use ZOSGD or "
                        "DeepZero with this objective= for zeroth-order steps"
                    )
                raise NumericOptimizerError(
                    "no gradient reached the parameters: call zero_feedback() before running the workflow (it binds "
                    "leaf tensors into the nodes), compute on the nodes' tensors, and give the scalar loss tensor as "
                    "the feedback (output.backward(loss)) or as step(loss=)"
                )
            if self.maximize:
                loss = -loss
            hessian_now = isinstance(opt, SophiaH) and self.step_count % opt.defaults["hessian_interval"] == 0
            loss.backward(create_graph=isinstance(opt, AdaHessian) or hessian_now)
            if hessian_now:
                opt.update_hessian()
        opt.step()

    def _find_loss(self) -> Tensor | None:
        losses: dict[int, Tensor] = {}
        for node in self.tensors.nodes:
            for item in getattr(node, "feedback", []):
                c = _loss_in(getattr(item, "feedback", None))
                if c is not None:
                    losses.setdefault(id(c), c.reshape(()))
        if not losses:
            return None
        return torch.stack(list(losses.values())).mean()

    def _closure(self) -> float:
        from optotrace.trace import stop_tracing

        assert self.objective is not None
        self.tensors.bind(differentiable=False)
        with stop_tracing():
            value = loss_value(self.objective())
        return -value if self.maximize else value

    # -- state ---------------------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Plain JSON: the adapter's step count, the optimizer's type and its torch state (tensors as lists)."""
        return {
            "type": type(self).__name__,
            "optimizer": type(self.optimizer).__name__,
            "step_count": self.step_count,
            "parameters": [getattr(n, "name", str(i)) for i, n in enumerate(self.tensors.nodes)],
            "torch_state": to_json(self.optimizer.state_dict()),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("optimizer") not in (None, type(self.optimizer).__name__):
            raise NumericOptimizerError(
                f"this state belongs to a {state.get('optimizer')}, not a {type(self.optimizer).__name__}"
            )
        self.step_count = int(state.get("step_count", 0))
        self.optimizer.load_state_dict(from_json(state["torch_state"]))

    def __repr__(self) -> str:
        return f"NumericOptimizerAdapter({type(self.optimizer).__name__}, {len(self.params)} parameters)"
