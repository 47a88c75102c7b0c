"""Parameter values as JSON (never pickle): code as source text, JSON values as themselves, tuples as lists,
torch tensors and numpy arrays as nested lists with their dtype."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from optotrace.trace.errors import ParameterFileError
from optotrace.trace.nodes import ParameterNode

FORMAT = "optotrace.parameters"
_JSON_TYPES = (bool, int, float, str, list, dict, type(None))


def _array_kind(value: Any) -> str | None:
    module = type(value).__module__
    if module.startswith("torch") and type(value).__name__ in ("Tensor", "Parameter"):
        return "tensor"
    if module.startswith("numpy") and type(value).__name__ == "ndarray":
        return "ndarray"
    return None


def encode(name: str, param: ParameterNode) -> dict[str, Any]:
    value = param._data
    if param.is_code:
        return {"type": "code", "value": value}
    kind = _array_kind(value)
    if kind is not None:
        return {"type": kind, "dtype": str(value.dtype).removeprefix("torch."), "value": value.tolist()}
    if isinstance(value, tuple):
        return {"type": "tuple", "value": list(value)}
    if isinstance(value, _JSON_TYPES):
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise ParameterFileError(f"parameter {name!r} cannot be saved as JSON: {exc}") from exc
        return {"type": type(value).__name__, "value": value}
    raise ParameterFileError(f"parameter {name!r} holds a {type(value).__name__}, which cannot be saved as JSON; "
                             "use numbers, strings, lists, dicts, tuples, numpy arrays or torch tensors")


def _type_of(param: ParameterNode) -> str:
    value = param._data
    if param.is_code:
        return "code"
    return _array_kind(value) or ("tuple" if isinstance(value, tuple) else type(value).__name__)


def _compatible(expected: str, stored: str) -> bool:
    numbers = ("int", "float")
    return expected == stored or (expected in numbers and stored in numbers) or expected == "NoneType"


def decode(entry: Mapping[str, Any], current: Any) -> Any:
    kind, value = entry["type"], entry["value"]
    if kind == "tuple":
        return tuple(value)
    if kind == "float":
        return float(value)
    if kind == "tensor":
        import torch

        tensor = torch.tensor(value, dtype=getattr(torch, entry["dtype"]), device=current.device)
        return tensor.requires_grad_(current.requires_grad) if tensor.is_floating_point() else tensor
    if kind == "ndarray":
        import numpy

        return numpy.asarray(value, dtype=entry["dtype"])
    return value


def save_parameters(params: Mapping[str, ParameterNode], path: str | Path) -> Path:
    """Write the named parameters' values to a JSON file."""
    path = Path(path)
    document = {"format": FORMAT, "version": 1,
                "parameters": {name: encode(name, p) for name, p in params.items()}}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(document, indent=2, ensure_ascii=False))
    tmp.replace(path)
    return path


def load_parameters(params: Mapping[str, ParameterNode], path: str | Path) -> None:
    """Set the named parameters from a JSON file written by save_parameters. Nothing changes unless the
    file has exactly these parameters, each with a value of a compatible type."""
    path = Path(path)
    try:
        document = json.loads(path.read_text())
        stored = document["parameters"]
        if document.get("format") != FORMAT or not isinstance(stored, dict):
            raise ValueError("not an optotrace parameter file")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ParameterFileError(f"cannot read parameters from {path}: {exc}") from exc
    problems = []
    missing = sorted(set(params) - set(stored))
    extra = sorted(set(stored) - set(params))
    if missing:
        problems.append(f"missing parameters {missing}")
    if extra:
        problems.append(f"unexpected parameters {extra}")
    for name in sorted(set(params) & set(stored)):
        entry = stored[name]
        expected = _type_of(params[name])
        got = entry.get("type") if isinstance(entry, dict) and "value" in entry else "malformed entry"
        if not _compatible(expected, str(got)):
            problems.append(f"parameter {name!r} should be {expected} but the file has {got}")
    if problems:
        raise ParameterFileError(f"{path} does not match the parameters it is loaded into: "
                                 + "; ".join(problems) + ". Load a file saved from the same model.")
    values = {name: decode(stored[name], params[name]._data) for name in params}
    for name, value in values.items():
        params[name].set(value)
