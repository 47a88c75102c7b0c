"""Layer capture shared by K-FAC and MKOR: which Linear/Conv2d layers a model has, and the activations and output
gradients each one saw since the last step, as the rows of the Kronecker factors.

For a layer with weight matrix W (out x in; a Conv2d kernel viewed as out x (in*kh*kw)) and a bias b, the gradient
is taken as one matrix [dW | db] (out x (in+1)) and the activations get a column of ones. Rows:
  Linear: a = input rows (batch and any leading dims flattened), g = output-gradient rows times the row count
          (a mean-reduced loss divides each row's gradient by it; this undoes that, so G is the per-example scale);
  Conv2d: a = the unfolded input patches, one row per output position (Grosse & Martens 2016, KFC), and
          g = the output gradient per position, times the batch size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from optotrace.optimizers.numeric.errors import NumericOptimizerError


@dataclass(eq=False)
class KronLayer:
    """One supported layer: its parameters, its geometry and what it recorded since the last step."""

    name: str
    weight: Tensor
    bias: Tensor | None
    conv: dict[str, Any] | None = None  # kernel_size, stride, padding, dilation for Conv2d; None for Linear
    inputs: list[Tensor] = field(default_factory=list)
    grads: list[Tensor] = field(default_factory=list)
    _rows: tuple[Tensor, Tensor] | None = None

    @property
    def in_dim(self) -> int:
        return self.weight[0].numel() + (1 if self.bias is not None else 0)

    @property
    def out_dim(self) -> int:
        return self.weight.shape[0]

    def record(self, x: Tensor, out: Tensor) -> None:
        """Keep the input and hook the output's gradient (called in the forward pass, when grad is enabled)."""
        if not (torch.is_grad_enabled() and out.requires_grad):
            return
        self.inputs.append(x.detach())
        out.register_hook(self._keep_grad)

    def _keep_grad(self, grad: Tensor) -> None:
        self.grads.append(grad.detach())

    def clear(self) -> None:
        self.inputs.clear()
        self.grads.clear()
        self._rows = None

    def rows(self) -> tuple[Tensor, Tensor]:
        """(activation_rows(), gradient_rows()), computed once per step, in the weight's dtype."""
        if self._rows is None:
            dtype = self.weight.dtype
            self._rows = (self.activation_rows().to(dtype), self.gradient_rows().to(dtype))
        return self._rows

    def product(self, left: Tensor, right: Tensor) -> Tensor:
        """left @ [dW | db] @ right.

        With one recorded batch of few rows the gradient is exactly the sum of the rows' outer products,
        grad = g^T a / s (s: the row scale of `gradient_rows`), so the product is (left @ g^T) @ (a @ right) / s,
        which costs rows * (out^2 + in^2 + out*in) instead of out * in * (out + in). That identity is checked on a
        probe vector first (grad z against g^T (a z) / s): gradient clipping, an extra loss term on the weight or
        a batch recorded without its backward all fail it, and then the dense product is used.
        """
        grad = self.grad_matrix()
        out, inn = grad.shape
        if len(self.inputs) == 1 and len(self.grads) >= 1:
            a, g = self.rows()
            n = a.shape[0]
            if n * (out * out + inn * inn + out * inn) < out * inn * (out + inn):
                scale = float(n if self.conv is None else self.inputs[0].shape[0])
                probe = torch.sin(torch.arange(inn, device=grad.device, dtype=grad.dtype) * 1.618 + 0.5)
                want = grad @ probe
                got = g.t() @ (a @ probe) / scale
                if float(torch.linalg.vector_norm(want - got)) <= 1e-4 * float(torch.linalg.vector_norm(want)) + 1e-30:
                    return (left @ g.t()) @ (a @ right) / scale
        return left @ grad @ right

    def has_batch(self) -> bool:
        return bool(self.inputs) and len(self.grads) >= len(self.inputs)

    def activation_rows(self) -> Tensor:
        """(rows x in_dim): the inputs of every forward since the last step, a ones column for the bias."""
        parts = []
        for x in self.inputs:
            if self.conv is None:
                rows = x.reshape(-1, x.shape[-1])
            else:
                patches = F.unfold(x, **self.conv)  # (N, C*kh*kw, L)
                rows = patches.transpose(1, 2).reshape(-1, patches.shape[1])
            if self.bias is not None:
                rows = torch.cat([rows, rows.new_ones(rows.shape[0], 1)], dim=1)
            parts.append(rows)
        return parts[0] if len(parts) == 1 else torch.cat(parts)

    def gradient_rows(self) -> Tensor:
        """(rows x out_dim): output gradients matching `activation_rows`, per-example scale (see module doc)."""
        parts = []
        # backward runs last forward first: hooks appended the gradients in reverse order of the inputs
        for g in reversed(self.grads[-len(self.inputs):]):
            if self.conv is None:
                rows = g.reshape(-1, g.shape[-1])
                parts.append(rows * rows.shape[0])
            else:
                rows = g.permute(0, 2, 3, 1).reshape(-1, g.shape[1])
                parts.append(rows * g.shape[0])
        return parts[0] if len(parts) == 1 else torch.cat(parts)

    def grad_matrix(self) -> Tensor:
        """[dW | db] as one (out_dim x in_dim) matrix (a zero column when the bias got no gradient)."""
        w = self.weight.grad.reshape(self.out_dim, -1)
        if self.bias is None:
            return w
        b = self.bias.grad if self.bias.grad is not None else torch.zeros_like(self.bias)
        return torch.cat([w, b.reshape(-1, 1)], dim=1)

    def split(self, matrix: Tensor) -> tuple[Tensor, Tensor | None]:
        """The inverse of `grad_matrix`: (weight-shaped, bias-shaped or None) views of a direction matrix."""
        if self.bias is None:
            return matrix.reshape(self.weight.shape), None
        return matrix[:, :-1].reshape(self.weight.shape), matrix[:, -1]


def _conv_geometry(module: nn.Conv2d) -> dict[str, Any] | str:
    """F.unfold's arguments for a Conv2d, or why it is not supported."""
    if module.groups != 1:
        return f"groups={module.groups} (only groups=1 convolutions have one Kronecker-factored block)"
    if isinstance(module.padding, str) or module.padding_mode != "zeros":
        return f"padding={module.padding!r}, padding_mode={module.padding_mode!r} (give integer zero padding)"
    return dict(kernel_size=module.kernel_size, dilation=module.dilation, padding=module.padding, stride=module.stride)


def _make_layer(name: str, module: nn.Module) -> KronLayer | str:
    if type(module) is nn.Linear:
        return KronLayer(name, module.weight, module.bias)
    if type(module) is nn.Conv2d:
        geometry = _conv_geometry(module)
        if isinstance(geometry, str):
            return geometry
        return KronLayer(name, module.weight, module.bias, conv=geometry)
    return f"a {type(module).__name__} (only nn.Linear and nn.Conv2d are Kronecker-factored)"


def find_layers(
    optimizer_name: str, model: Any, params: list[Tensor], layers: list[nn.Module] | None
) -> tuple[list[KronLayer], list[Any]]:
    """The supported layers of `model` whose weight is among `params`, and their forward hooks' handles.

    `layers=None` takes every nn.Linear / nn.Conv2d (groups=1, integer zero padding) of the model and leaves the
    rest to the first-order fallback; an explicit `layers` list must hold only supported layers.
    """
    if model is None:
        raise NumericOptimizerError(
            f"{optimizer_name} needs the model: {optimizer_name}(model, ...) or {optimizer_name}(params, model=model); "
            "it hooks the model's nn.Linear and nn.Conv2d layers to collect their Kronecker factors"
        )
    if not isinstance(model, nn.Module):
        raise NumericOptimizerError(f"{optimizer_name}: model= must be a torch.nn.Module, got {type(model).__name__}")
    names = {m: n or type(m).__name__ for n, m in model.named_modules()}
    ids = {id(p) for p in params}
    found: list[KronLayer] = []
    if layers is not None:
        for module in layers:
            if module not in names:
                raise NumericOptimizerError(f"{optimizer_name}: layer {module!r} is not a submodule of the model")
            layer = _make_layer(names[module], module)
            if isinstance(layer, str):
                raise NumericOptimizerError(f"{optimizer_name} cannot precondition layer {names[module]!r}: {layer}")
            if id(layer.weight) not in ids:
                raise NumericOptimizerError(
                    f"{optimizer_name}: layer {names[module]!r}'s weight is not among the optimizer's parameters"
                )
            found.append(layer)
        candidates = list(layers)
    else:
        candidates = [m for m in model.modules() if m is not model or not list(model.children())]
        for module in candidates:
            layer = _make_layer(names[module], module)
            if isinstance(layer, KronLayer) and id(layer.weight) in ids:
                found.append(layer)
    if not found:
        raise NumericOptimizerError(
            f"{optimizer_name}: the model has no nn.Linear or nn.Conv2d layer (groups=1) whose weight is among the "
            "optimizer's parameters; use a first-order optimizer (AdamW, Lion) for it"
        )
    for layer in found:
        if layer.bias is not None and id(layer.bias) not in ids:
            layer.bias = None  # a frozen bias: precondition the weight alone
    handles = []
    by_module = {id(m): lay for m in candidates for lay in found if _owns(m, lay)}
    for module in candidates:
        lay = by_module.get(id(module))
        if lay is not None:
            handles.append(module.register_forward_hook(_hook(lay)))
    return found, handles


def _owns(module: nn.Module, layer: KronLayer) -> bool:
    return getattr(module, "weight", None) is layer.weight


def _hook(layer: KronLayer):  # noqa: ANN202 - a torch forward hook
    def hook(module: nn.Module, inputs: tuple[Any, ...], output: Tensor) -> None:
        if module.training:
            layer.record(inputs[0], output)

    return hook
