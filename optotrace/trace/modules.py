"""`Module` and `@model`: objects that hold parameters (as attributes, in lists and dicts, in nested
modules, and as trainable bundled methods), find them, and save or load them as JSON.

Names are attribute paths (`planner.prompt`, `tools.0.code`, `act` for a bundled method `act`); a node's own
`.name` is left as its user gave it. A trainable bundled method's code parameter belongs to the class, so
loading it changes the method for every instance of that class.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from optotrace.trace.bundle import BundledFunction
from optotrace.trace.nodes import ParameterNode
from optotrace.trace.params_io import load_parameters, save_parameters

T = TypeVar("T")


def _walk(value: Any, path: str, out: dict[str, ParameterNode], seen: set[int]) -> None:
    if isinstance(value, ParameterNode):
        if value.trainable and value not in out.values():
            out[path] = value
        return
    if isinstance(value, BundledFunction):
        if value.parameter is not None and value.parameter not in out.values():
            out[path] = value.parameter
        return
    if id(value) in seen:
        return
    if isinstance(value, Module):
        seen.add(id(value))
        for name, item in value._members():
            _walk(item, f"{path}.{name}" if path else name, out, seen)
    elif isinstance(value, (list, tuple)):
        seen.add(id(value))
        for i, item in enumerate(value):
            _walk(item, f"{path}.{i}", out, seen)
    elif isinstance(value, dict):
        seen.add(id(value))
        for key, item in value.items():
            _walk(item, f"{path}.{key}", out, seen)


class Module:
    """Base class of objects holding parameters. See the module docstring."""

    def _members(self) -> list[tuple[str, Any]]:
        members = list(vars(self).items())
        names = {name for name, _ in members}
        for cls in type(self).__mro__:
            for name, attr in vars(cls).items():
                if isinstance(attr, BundledFunction) and name not in names:
                    names.add(name)
                    members.append((name, attr))
        return members

    def named_parameters(self) -> dict[str, ParameterNode]:
        """Trainable parameters by attribute path, each once (the first path that reaches it)."""
        out: dict[str, ParameterNode] = {}
        _walk(self, "", out, set())
        return out

    def parameters(self) -> list[ParameterNode]:
        return list(self.named_parameters().values())

    def save(self, path: str | Path) -> Path:
        """Write every parameter's value to a JSON file."""
        return save_parameters(self.named_parameters(), path)

    def load(self, path: str | Path) -> None:
        """Set the parameters from a file written by `save`; raises ParameterFileError naming missing,
        extra or wrongly typed parameters (and then changes nothing)."""
        load_parameters(self.named_parameters(), path)


def model(cls: type[T]) -> type[T]:
    """Class decorator: the class gains Module's parameters(), save() and load()."""
    if issubclass(cls, Module):
        return cls
    namespace = {"__module__": cls.__module__, "__qualname__": cls.__qualname__, "__doc__": cls.__doc__}
    return type(cls.__name__, (cls, Module), namespace)  # type: ignore[return-value]
