"""The four node kinds and `node()`.

A node holds its value (`.data`), strong references to its parents and weak references to its children, so
a finished step's graph is freed as soon as nothing downstream (an output, a feedback item) holds it.
"""

from __future__ import annotations

import copy
import threading
import types
import weakref
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from optotrace.errors import OptotraceError
from optotrace.trace.context import _READS, _TRACING, next_id
from optotrace.trace.operators import NodeOperators

if TYPE_CHECKING:
    from optotrace.trace.propagators import FeedbackItem, Propagator

ROLES = ("instruction", "code", "demos", "value")  # a parameter's declared role (ParameterNode.role)
_CHILDREN_LOCK = threading.Lock()  # parameters are shared across threads; their children lists are not atomic


def preview(value: Any, limit: int = 80) -> str:
    """A one-line repr of `value`, cut to `limit` characters."""
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ must not break tracing
        text = f"<unrepresentable {type(value).__name__}: {exc!r}>"
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Node(NodeOperators):
    """A value in the graph. `==`/`!=` return plain bools (identity against another node, the data
    against anything else) and hashing is by identity, so nodes work as dict keys and list members."""

    __slots__ = ("_data", "name", "id", "parents", "description", "feedback", "_children", "_prune_at",
                 "__weakref__")
    kind = "value"
    trainable = False

    def __init__(self, value: Any, name: str | None = None, description: str = "") -> None:
        if isinstance(value, Node):
            raise TypeError("a Node cannot hold another Node; use node(x), which returns x unchanged")
        self._data = value
        self.name = name if name is not None else type(value).__name__
        self.id = next_id()
        self.parents: list[Node] = []
        self.description = description
        self.feedback: list[FeedbackItem] = []
        self._children: list[weakref.ref[Node]] | None = None
        self._prune_at = 16

    @property
    def data(self) -> Any:
        reads = _READS.get()
        if reads is not None:  # inside a bundled call: remember the read (external dependency check)
            reads.append(self)
        return self._data

    @property
    def children(self) -> list[Node]:
        refs = self._children
        if refs is None:
            return []
        return [child for child in (r() for r in refs) if child is not None]

    def _add_child(self, child: Node) -> None:
        with _CHILDREN_LOCK:
            refs = self._children
            if refs is None:
                self._children = [weakref.ref(child)]
                return
            if len(refs) >= self._prune_at:  # drop dead children; doubling keeps this amortized O(1)
                refs[:] = [r for r in refs if r() is not None]
                self._prune_at = max(16, 2 * len(refs))
            refs.append(weakref.ref(child))

    def backward(self, feedback: Any, propagator: Propagator | None = None) -> None:
        """Give every trainable parameter upstream of this node a FeedbackItem (no LLM is called)."""
        from optotrace.trace.propagators import GraphPropagator

        (propagator if propagator is not None else GraphPropagator()).propagate(self, feedback)

    def zero_feedback(self) -> None:
        self.feedback.clear()

    def _repr_svg_(self) -> str | None:  # Jupyter: the subgraph that reaches this node
        from optotrace.trace.render import notebook_svg

        return notebook_svg(self)

    def _repr_html_(self) -> str:
        from optotrace.trace.render import notebook_html

        return notebook_html(self)

    def _op(self, op_name: str, expression: str, fn: Callable[..., Any], *named: tuple[str, Any]) -> Any:
        """Apply `fn` to the data of `named` (name, node-or-value) pairs and record the result."""
        if not _TRACING.get():
            out = fn(*[v.data if isinstance(v, Node) else v for _, v in named])
            return out.data if isinstance(out, Node) else out
        inputs: dict[str, Node] = {}
        args = [lift(name, value, inputs) for name, value in named]
        signature = f"{op_name}({', '.join(name for name, _ in named)})"
        description = f"[{op_name}] {expression}"
        try:
            out = fn(*args)
        except Exception as exc:
            text = failure_text(exc, f"in operator {signature}: {expression}", inputs)
            raise ExecutionError(ExceptionNode(exc, text, name=op_name, inputs=inputs, op_name=op_name,
                                               op_description=description, op_signature=signature)) from exc
        if isinstance(out, Node):  # a stored node (n[i], n.getattr(...), a call): its value, and it as a parent
            connect_result("returned", out, inputs)
            out = out._data
        elif isinstance(out, _CONTAINERS):
            for path, held in held_nodes(out):
                connect_result(f"returned{path}", held, inputs)
        return MessageNode(out, name=op_name, inputs=inputs, op_name=op_name, op_description=description,
                           op_signature=signature)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Node):
            return self is other
        return bool(self.data == other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        return bool(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __contains__(self, item: Any) -> bool:
        return (item.data if isinstance(item, Node) else item) in self.data

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not callable(self._data):
            raise TypeError(f"node {self.name!r} holds a {type(self._data).__name__}, which is not callable")
        return self.call(*args, **kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, data={preview(self._data)})"

    # -- copies: a new id, no feedback, no parents or children (a copy is a new root, as in Trace) ----------
    def __deepcopy__(self, memo: dict[int, Any]) -> Node:
        new = type(self).__new__(type(self))
        memo[id(self)] = new  # first, so that data referring back to this node gets the copy
        self._fill_copy(new, lambda value: copy.deepcopy(value, memo))
        return new

    def __copy__(self) -> Node:
        new = type(self).__new__(type(self))
        self._fill_copy(new, lambda value: value)
        return new

    def __getstate__(self) -> dict[str, Any]:
        """Pickled, a node travels as a detached copy (no parents, children or feedback), like a deep copy."""
        shell = types.SimpleNamespace()
        self._fill_copy(shell, lambda value: value)
        return vars(shell)

    def __setstate__(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            setattr(self, key, value)
        self.id = next_id()  # ids order nodes within one process: the sender's id means nothing here

    def _fill_copy(self, new: Any, copy_value: Callable[[Any], Any]) -> None:
        new.name, new.description = self.name, self.description
        new.id = next_id()
        new.parents, new.feedback, new._children, new._prune_at = [], [], None, 16
        new._data = copy_value(self._data)


class ParameterNode(Node):
    """A trainable value: a prompt, a number, a structure, a tensor, or a bundled function's source.

    `constraint` is a text description or a callable `value -> bool | str` (True or "" means acceptable);
    `set()` does not enforce it, `check(value)` evaluates it, so optimizers decide what to do.

    `role` says what the value is to the program, as the user declared it (never guessed from the name):
    "instruction" (text given to a model with every input: a prompt, a system message), "code" (a bundled
    function's source, always), "demos" (few-shot pairs), or "value" (anything else, the default). Optimizers
    read it: the checks that an instruction is not the answer to one example apply to role "instruction" only.
    """

    __slots__ = ("constraint", "code_name", "code_signature", "trainable", "_role")
    kind = "parameter"
    default_role = "value"  # the role when none is declared (a subclass may set its own: Demos -> "demos")

    def __init__(self, value: Any, name: str | None = None, description: str = "",
                 constraint: str | Callable[[Any], bool | str] | None = None, trainable: bool = True,
                 code_name: str | None = None, code_signature: str | None = None, role: str | None = None) -> None:
        super().__init__(value, name, description)
        self.constraint = constraint
        self.trainable = trainable
        self.code_name = code_name
        self.code_signature = code_signature
        self.role = role

    @property
    def is_code(self) -> bool:
        return self.code_name is not None

    @property
    def role(self) -> str:
        """The declared role: "instruction", "code", "demos" or "value" (see the class docstring)."""
        if self.is_code:
            return "code"
        return self._role or self.default_role

    @role.setter
    def role(self, value: str | None) -> None:
        if value is not None and value not in ROLES:
            raise ValueError(f"role={value!r} is not a role; use one of {', '.join(map(repr, ROLES))} (or None)")
        self._role = value

    def set(self, value: Any) -> None:
        """Replace the value (a node's data is taken). Bundled code picks up new source on its next call."""
        self._data = value.data if isinstance(value, Node) else value

    def _fill_copy(self, new: Any, copy_value: Callable[[Any], Any]) -> None:
        super()._fill_copy(new, copy_value)
        new.constraint, new.trainable = self.constraint, self.trainable
        new.code_name, new.code_signature = self.code_name, self.code_signature
        new._role = self._role

    def check(self, value: Any) -> str | None:
        """None when `value` satisfies a callable constraint (or there is none to evaluate), else why not."""
        if not callable(self.constraint):
            return None
        try:
            verdict = self.constraint(value)
        except Exception as exc:
            return f"constraint of {self.name!r} raised {type(exc).__name__}: {exc}"
        if verdict is True or verdict is None or verdict == "":
            return None
        return verdict if isinstance(verdict, str) else f"value {preview(value)} violates the constraint of {self.name!r}"


class MessageNode(Node):
    """The output of a traced operation; its parents are its node inputs (plus a trainable bundle's code)."""

    __slots__ = ("inputs", "op_name", "op_description", "op_signature", "code_parameter", "external")
    kind = "message"

    def __init__(self, value: Any, *, name: str, inputs: dict[str, Node], op_name: str, op_description: str,
                 op_signature: str, code_parameter: ParameterNode | None = None,
                 external: tuple[Node, ...] = ()) -> None:
        super().__init__(value, name, op_description)
        self.inputs = inputs
        self.op_name = op_name
        self.op_description = op_description
        self.op_signature = op_signature
        self.code_parameter = code_parameter
        self.external = external  # nodes read without being passed in (allow_external_dependencies=True)
        parents = list(inputs.values())
        if code_parameter is not None:
            parents.append(code_parameter)
        parents.extend(external)
        if len(parents) > 1:
            parents = list(dict.fromkeys(parents))  # identity-based: one edge per distinct parent
        self.parents = parents
        for parent in parents:
            parent._add_child(self)

    def _fill_copy(self, new: Any, copy_value: Callable[[Any], Any]) -> None:
        super()._fill_copy(new, copy_value)
        new.op_name, new.op_description, new.op_signature = self.op_name, self.op_description, self.op_signature
        new.inputs, new.code_parameter, new.external = {}, None, ()


class ExceptionNode(MessageNode):
    """A failed operation. `.data` is the error text annotated with the failing source line."""

    __slots__ = ("exception",)
    kind = "exception"

    def __init__(self, exception: BaseException, text: str, **kwargs: Any) -> None:
        super().__init__(text, **kwargs)
        self.exception = exception

    def _fill_copy(self, new: Any, copy_value: Callable[[Any], Any]) -> None:
        super()._fill_copy(new, copy_value)
        new.exception = self.exception  # shared: an exception carries its traceback, which cannot be copied


class ExecutionError(OptotraceError):
    """A traced call failed. `.exception_node` is the ExceptionNode recorded in the graph (backpropagate
    feedback from it like from any node); `.exception` is the original exception."""

    def __init__(self, exception_node: ExceptionNode) -> None:
        super().__init__(exception_node.data)
        self.exception_node = exception_node

    @property
    def exception(self) -> BaseException:
        return self.exception_node.exception


def lift(name: str, value: Any, inputs: dict[str, Node]) -> Any:
    """Record `value` as input `name` and return its plain data. A plain value becomes a constant node;
    a list, tuple or dict that directly contains nodes contributes each of them (`name[i]`)."""
    if isinstance(value, Node):
        inputs[name] = value
        return value._data
    kind = type(value)
    if kind is list or kind is tuple:
        if any(isinstance(v, Node) for v in value):
            return kind(lift(f"{name}[{i}]", v, inputs) if isinstance(v, Node) else v
                        for i, v in enumerate(value))
    elif kind is dict and any(isinstance(v, Node) for v in value.values()):
        return {k: lift(f"{name}[{k!r}]", v, inputs) if isinstance(v, Node) else v for k, v in value.items()}
    inputs[name] = Node(value)
    return value


_CONTAINERS = (list, tuple, set, frozenset, deque, dict)


def held_nodes(value: Any) -> list[tuple[str, Node]]:
    """The nodes inside `value` through lists, tuples, sets, deques and dict values, nested to any depth, as
    (path like `[0]['k']`, node) pairs; [] at once for anything else (a string, a number, an object)."""
    if not isinstance(value, _CONTAINERS):
        return []
    found: list[tuple[str, Node]] = []
    seen: set[int] = set()
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, current = stack.pop()
        if id(current) in seen:  # shared or self-referencing containers are walked once
            continue
        seen.add(id(current))
        pairs = current.items() if isinstance(current, dict) else enumerate(current)
        for key, item in pairs:
            if isinstance(item, Node):
                found.append((f"{path}[{key!r}]", item))
            elif isinstance(item, _CONTAINERS):
                stack.append((f"{path}[{key!r}]", item))
    return found


def connect_result(name: str, held: Node, inputs: dict[str, Node]) -> None:
    """Record `held`, a node the operation returned from inside its inputs, as one more input (a parent)."""
    if any(held is n for n in inputs.values()):
        return
    unique, k = name, 2
    while unique in inputs:
        unique, k = f"{name}_{k}", k + 1
    inputs[unique] = held


def failure_text(exc: BaseException, where: str, inputs: dict[str, Node], source: str = "") -> str:
    """The text an ExceptionNode holds: the error, where it happened, the inputs, the annotated source."""
    lines = [f"{type(exc).__name__}: {exc}", f"  {where}"]
    if inputs:
        lines.append("  inputs: " + ", ".join(f"{k}={preview(n._data, 60)}" for k, n in inputs.items()))
    if source:
        lines.append(source)
    return "\n".join(lines)
