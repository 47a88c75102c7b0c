"""torch optimizer state <-> plain JSON (the Trainer checkpoints optimizers as JSON, never pickle)."""

from __future__ import annotations

from typing import Any

import torch

_TAG = "__tensor__"


def to_json(value: Any) -> Any:
    """Tensors become {"__tensor__": nested list, "dtype": name, "shape": [...]}; dict keys become strings
    (int keys are tagged so they come back as ints)."""
    if isinstance(value, torch.Tensor):
        t = value.detach().cpu()
        return {_TAG: t.reshape(-1).tolist(), "dtype": str(t.dtype).removeprefix("torch."), "shape": list(t.shape)}
    if isinstance(value, dict):
        return {(f"#int:{k}" if isinstance(k, int) else str(k)): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in JSON optimizer state")


def from_json(value: Any) -> Any:
    """The inverse of `to_json` (tuples come back as lists, which torch's load_state_dict accepts)."""
    if isinstance(value, dict):
        if _TAG in value:
            dtype = getattr(torch, value["dtype"])
            return torch.tensor(value[_TAG], dtype=dtype).reshape(value["shape"])
        return {(int(k[5:]) if k.startswith("#int:") else k): from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value
