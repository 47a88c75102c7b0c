"""`Module` and `@model`: objects that hold parameters, find them, and save or load them as JSON.

Parameters are found as attributes, as trainable bundled methods (bound ones too), and inside nested modules,
dataclass instances and containers (lists, tuples, deques, any Sequence or Mapping, sets; a node used as a
dict key too), to any depth. Other objects are opaque: make them Modules to have their parameters found.

Names are attribute paths (`planner.prompt`, `tools.0.code`, `act` for a bundled method `act`); set members
are numbered in the order their parameters were created, so every instance of a model gets the same names;
two paths spelled alike (`{"a.b": p, "a": {"b": q}}`) get `_2`. A node's own `.name` is left as its user gave it.

A trainable bundled method's code parameter belongs to its class, so loading it changes the method for every
instance of that class; a deep copy of a Module gets its own copy of it (one per class per `copy.deepcopy`
call), so a copied agent can be optimized beside the original.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any, TypeVar

from optotrace.trace.bundle import BundledFunction, BundleMethod
from optotrace.trace.nodes import Node, ParameterNode
from optotrace.trace.params_io import load_parameters, save_parameters

T = TypeVar("T")


_OPAQUE = (str, bytes, bytearray, memoryview, range)


class _Finder:
    """Walks a module's attributes once; each trainable parameter is named by its first path."""

    def __init__(self) -> None:
        self.found: dict[str, ParameterNode] = {}
        self.ids: set[int] = set()
        self.seen: set[int] = set()

    def walk(self, value: Any, path: str) -> None:
        param = _parameter_of(value)
        if param is not None:
            if param.trainable and id(param) not in self.ids:
                self.ids.add(id(param))
                name, k = path, 2
                while name in self.found:  # `{"a.b": p, "a": {"b": q}}`: two paths spelled alike
                    name, k = f"{path}_{k}", k + 1
                self.found[name] = param
            return
        members = _members_of(value)
        if members is None or id(value) in self.seen:
            return
        self.seen.add(id(value))
        for key, item in members:
            self.walk(item, f"{path}.{key}" if path else str(key))


def _parameter_of(value: Any) -> ParameterNode | None:
    if isinstance(value, ParameterNode):
        return value
    if isinstance(value, BundleMethod):
        value = value.__func__
    return value.parameter if isinstance(value, BundledFunction) else None


def _members_of(value: Any) -> list[tuple[Any, Any]] | None:
    """(name, item) pairs to walk into, or None for a value that holds no parameters we look for."""
    if isinstance(value, Module):
        return value._members()
    if isinstance(value, Mapping):
        return [pair for key, item in value.items() for pair in _mapping_entry(key, item)]
    if isinstance(value, (AbstractSet, Sequence)) and not isinstance(value, _OPAQUE):
        items = sorted(value, key=_first_parameter_id) if isinstance(value, AbstractSet) else value
        return list(enumerate(items))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [(f.name, getattr(value, f.name)) for f in dataclasses.fields(value)]
    return None


def _mapping_entry(key: Any, item: Any) -> list[tuple[Any, Any]]:
    """A node used as a key is named by its own name (its repr would change with its value); a trainable key
    is a parameter too, named `<name>.key`."""
    if not isinstance(key, Node):
        return [(key, item)]
    return [(key.name, item), (f"{key.name}.key", key)]


def _deepcopy_object(obj: Any, memo: dict[int, Any]) -> Any:
    """What copy.deepcopy does for an object without __deepcopy__ (its __reduce_ex__, state, items)."""
    reduced = obj.__reduce_ex__(4)
    func, args = reduced[0], reduced[1]
    state, list_items, dict_items = (*reduced[2:], None, None, None)[:3]
    new = func(*copy.deepcopy(args, memo))
    memo[id(obj)] = new
    if state is not None:
        state = copy.deepcopy(state, memo)
        if hasattr(new, "__setstate__"):
            new.__setstate__(state)
        else:
            attributes, slots = state if isinstance(state, tuple) and len(state) == 2 else (state, None)
            if attributes:
                new.__dict__.update(attributes)
            for key, value in (slots or {}).items():
                setattr(new, key, value)
    for item in list_items or ():
        new.append(copy.deepcopy(item, memo))
    for key, value in dict_items or ():
        new[copy.deepcopy(key, memo)] = copy.deepcopy(value, memo)
    return new


def _first_parameter_id(value: Any) -> float:
    """Set members have no order of their own: they are numbered by when their first parameter was created."""
    finder = _Finder()
    finder.walk(value, "x")
    return min((p.id for p in finder.found.values()), default=float("inf"))


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

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        """The usual deep copy, plus: the copy owns a copy of each trainable method's code (one per class per
        `deepcopy` call), so optimizing a copy's methods leaves the original's alone (as in Trace)."""
        new = _deepcopy_object(self, memo)
        for name, attr in self._members():
            if isinstance(attr, BundledFunction) and attr.parameter is not None and name not in vars(new):
                new.__dict__[name] = BundleMethod(copy.deepcopy(attr, memo), new)
        return new

    def named_parameters(self) -> dict[str, ParameterNode]:
        """Trainable parameters by attribute path, each once (the first path that reaches it)."""
        finder = _Finder()
        finder.walk(self, "")
        return finder.found

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
