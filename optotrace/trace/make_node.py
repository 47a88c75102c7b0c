"""`node()`: the user's way to put a value in the graph, as a constant or a trainable parameter."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from optotrace.trace.nodes import Node, ParameterNode

__all__ = ["node"]


def node(value: Any, name: str | None = None, trainable: bool = False, description: str | None = None,
         constraint: str | Callable[[Any], bool | str] | None = None, role: str | None = None) -> Node:
    """Wrap `value` in a Node (a ParameterNode when trainable).

    `role` declares what a trainable value is to the program: "instruction" for text given to a model with
    every input (a prompt, a system message), "value" (the default) for anything else; see ParameterNode.

    An existing node is returned unchanged (with a warning when another name or description is asked for),
    except with `trainable=True`: a node that is already a trainable parameter is returned as it is (asking
    for another name, description, constraint or role is an error); any other node gives a new ParameterNode
    holding the same value, named and described like it unless told otherwise. That parameter is a new root of
    the graph: it is not linked to the operations that computed the node (as in Trace).
    """
    if not trainable and constraint is not None:
        raise ValueError("constraint= applies to trainable nodes only; pass trainable=True as well")
    if not trainable and role is not None:
        raise ValueError("role= applies to trainable nodes only; pass trainable=True as well")
    if isinstance(value, Node):
        if not trainable:
            ignored = [k for k, asked, current in (("name", name, value.name),
                                                   ("description", description, value.description))
                       if asked is not None and asked != current]
            if ignored:
                warnings.warn(f"node(existing_node, {ignored[0]}=...) returns the node unchanged, so its "
                              f"{' and '.join(ignored)} stay as they are; set them on the node to change them",
                              UserWarning, stacklevel=2)
            return value
        if isinstance(value, ParameterNode) and value.trainable:
            asked = {"name": name, "description": description, "constraint": constraint, "role": role}
            current = {"name": value.name, "description": value.description, "constraint": value.constraint,
                       "role": value.role}
            changed = [k for k, v in asked.items() if v is not None and v != current[k]]
            if changed:
                raise ValueError(f"node {value.name!r} is already a trainable parameter, so node(..., trainable=True) "
                                 f"returns it and cannot change its {', '.join(changed)}; set the attribute on it, "
                                 "or create a separate parameter with node(existing.data, ...)")
            return value
        return ParameterNode(value._data, value.name if name is None else name,
                             value.description if description is None else description, constraint, role=role)
    if trainable:
        return ParameterNode(value, name, description or "", constraint, role=role)
    return Node(value, name, description or "")
