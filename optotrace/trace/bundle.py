"""`@bundle`: a Python function becomes one traced operation.

Calling a bundled function records a MessageNode whose parents are its node inputs (plain arguments become
constant nodes) and, with `trainable=True`, the code ParameterNode holding the function's source. Inside
the call tracing is off: the function sees plain data and its own bundled calls return plain values.

Trainable code: `fn.parameter.set(new_source)` makes the next call run the new source, compiled once per
distinct source text in a snapshot of the original function's globals. A function with a closure gets new
code that closes over the same cells (read when called, so a recursive inner function or a helper defined
later works), and a method gets `__class__`, so new code may call `super()`. A new source must define a
function of the same name and signature; if not, the call records an ExceptionNode.
A trainable *method* has one code parameter per class (shared by every instance), because the source
belongs to the class that defines it; a deep-copied Module owns a copy of it (see modules.py).
"""

from __future__ import annotations
import __future__

import ast
import copy
import functools
import inspect
import itertools
import linecache
import types
from collections.abc import Callable
from typing import Any, NoReturn

from optotrace.trace.context import _READS, _TRACING, next_id
from optotrace.trace.errors import CodeUpdateError, ExternalDependencyError
from optotrace.trace.nodes import (
    ExceptionNode,
    ExecutionError,
    MessageNode,
    Node,
    ParameterNode,
    connect_result,
    failure_text,
    held_nodes,
    lift,
)
from optotrace.trace.source import (
    DEFAULTS,
    KWDEFAULTS,
    annotate,
    defined_in_closure,
    definition_source,
    failing_line,
    in_closure_scope,
    keep_original_defaults,
)

_FUTURE_FLAGS = functools.reduce(
    lambda a, b: a | b, (getattr(__future__, f).compiler_flag for f in __future__.all_feature_names))
_versions = itertools.count(1)
_UNBOUND = object()
_MAX_VERSIONS = 256


class _Version:
    """One compiled source of a bundled function and where its lines live (for annotating failures)."""

    __slots__ = ("fn", "filename", "first_line", "source")

    def __init__(self, fn: Callable[..., Any], filename: str, first_line: int, source: str | None) -> None:
        self.fn, self.filename, self.first_line, self.source = fn, filename, first_line, source


class _Broken:
    """A source that cannot be used; a fresh CodeUpdateError is raised per call (no shared traceback)."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


class BundledFunction:
    """A function whose calls are recorded as MessageNodes. See the module docstring."""

    def __init__(self, fn: Callable[..., Any], description: str | None = None, trainable: bool = False,
                 catch_execution_error: bool = True, allow_external_dependencies: bool = False) -> None:
        if isinstance(fn, BundledFunction):
            fn = fn.fn
        if not callable(fn) or not hasattr(fn, "__code__"):
            raise TypeError(f"@bundle decorates Python functions, not {type(fn).__name__}")
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.name: str = fn.__name__
        self.is_async = inspect.iscoroutinefunction(fn)
        self.catch_execution_error = catch_execution_error
        self.allow_external_dependencies = allow_external_dependencies
        signature = inspect.signature(fn)
        # The binding of positional arguments to names, computed once (not per call).
        kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        self._positional = tuple(p.name for p in signature.parameters.values() if p.kind in kinds)
        self._varargs = next((p.name for p in signature.parameters.values()
                              if p.kind is inspect.Parameter.VAR_POSITIONAL), "args")
        self.op_signature = f"{self.name}{signature}"
        text = description if description is not None else (inspect.getdoc(fn) or "")
        self.description = text if text.startswith(f"[{self.name}]") else f"[{self.name}] {text}".rstrip()
        self._original = _Version(fn, fn.__code__.co_filename, 0, None)  # source read when first needed
        self._source_read = False
        self.parameter: ParameterNode | None = None
        if trainable:
            located = self._read_source()
            if located is None:
                raise TypeError(f"@bundle(trainable=True) needs the source of {self.name}, which inspect cannot "
                                "find (defined in a REPL or by exec?); define it in a file")
            self.parameter = ParameterNode(located[0], name=f"__code_{self.name}",
                                           description=f"The code of the function {self.name}.",
                                           code_name=self.name, code_signature=str(signature))
            self._compiled: dict[str, _Version | _Broken] = {located[0]: self._original}
            self._active: tuple[Any, _Version] = (located[0], self._original)
            # The closure's cells themselves (not their values): a cell may still be empty now (a recursive
            # inner function, a helper defined later, the __class__ of a method) and is filled later.
            self._cells: dict[str, types.CellType] = dict(zip(fn.__code__.co_freevars, fn.__closure__ or (),
                                                              strict=True))
        self._owner: type | None = None

    def __set_name__(self, owner: type, name: str) -> None:
        self._owner = owner  # the class a method belongs to: new code calling super() needs it as __class__

    # -- calling ---------------------------------------------------------------------------------------

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._invoke(_UNBOUND, args, kwargs)

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        return self if instance is None else BundleMethod(self, instance)

    def _invoke(self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not _TRACING.get():
            return self._call_plain(instance, args, kwargs)
        inputs: dict[str, Node] = {}
        names = self._positional if instance is _UNBOUND else self._positional[1:]
        n_named = len(names)
        data_args = [lift(names[i] if i < n_named else f"{self._varargs}[{i - n_named}]", value, inputs)
                     for i, value in enumerate(args)]
        data_kwargs = {k: lift(k, v, inputs) for k, v in kwargs.items()} if kwargs else {}
        if instance is not _UNBOUND:
            data_args.insert(0, instance)
        if self.is_async:
            return self._run_async(inputs, data_args, data_kwargs)
        start = next_id()  # nodes created from here on belong to this call, not to its dependencies
        try:
            version = self._version()
        except CodeUpdateError as exc:
            self._fail(exc, inputs, None)
        reads: list[Node] = []
        tracing, reading = _TRACING.set(False), _READS.set(reads)
        failure = None
        try:
            out = version.fn(*data_args, **data_kwargs)
        except Exception as exc:
            failure = exc
        finally:
            _READS.reset(reading)
            _TRACING.reset(tracing)
        if failure is not None:
            self._fail(failure, inputs, version)
        return self._record(out, inputs, reads, start, version)

    async def _run_async(self, inputs: dict[str, Node], data_args: list[Any], data_kwargs: dict[str, Any]) -> Any:
        start = next_id()
        try:
            version = self._version()
        except CodeUpdateError as exc:
            self._fail(exc, inputs, None)
        reads: list[Node] = []
        tracing, reading = _TRACING.set(False), _READS.set(reads)
        failure = None
        try:
            out = await version.fn(*data_args, **data_kwargs)
        except Exception as exc:
            failure = exc
        finally:
            _READS.reset(reading)
            _TRACING.reset(tracing)
        if failure is not None:
            self._fail(failure, inputs, version)
        return self._record(out, inputs, reads, start, version)

    def _call_plain(self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        data_args = [v.data if isinstance(v, Node) else v for v in args]
        if instance is not _UNBOUND:
            data_args.insert(0, instance)
        data_kwargs = {k: v.data if isinstance(v, Node) else v for k, v in kwargs.items()}
        return self._version().fn(*data_args, **data_kwargs)

    def _record(self, out: Any, inputs: dict[str, Node], reads: list[Node], start: int,
                version: _Version) -> MessageNode:
        if isinstance(out, Node):
            reads.append(out)
            out = out._data
        held = held_nodes(out)  # nodes inside a returned list, tuple, set or dict
        if held:
            reads.extend(n for _, n in held)
        external: tuple[Node, ...] = ()
        if reads:
            known = set(inputs.values())
            if self.parameter is not None:
                known.add(self.parameter)
            external = tuple(dict.fromkeys(n for n in reads if n.id < start and n not in known))
            if external:  # a node held in an argument's data (`pick(node([p]))`) was passed in: an input
                passed = {id(n): f"{name}{path}"
                          for name, v in list(inputs.items()) for path, n in held_nodes(v._data)}
                for n in external:
                    if id(n) in passed:
                        connect_result(passed[id(n)], n, inputs)
                external = tuple(n for n in external if id(n) not in passed)
            if external and not self.allow_external_dependencies:
                names = ", ".join(repr(n.name) for n in external)
                self._fail(ExternalDependencyError(
                    f"{self.name} read node(s) {names} without receiving them as arguments, so feedback cannot "
                    f"reach them; pass them as arguments, or use @bundle(allow_external_dependencies=True) to "
                    f"record them as extra parents"), inputs, version)
        return MessageNode(out, name=self.name, inputs=inputs, op_name=self.name, op_description=self.description,
                           op_signature=self.op_signature, code_parameter=self.parameter, external=external)

    def _fail(self, exc: Exception, inputs: dict[str, Node], version: _Version | None) -> NoReturn:
        """Record the failure as an ExceptionNode and raise ExecutionError (or `exc` itself when not catching)."""
        if not self.catch_execution_error:
            raise exc
        source = ""
        if version is not None and not isinstance(exc, ExternalDependencyError):
            source = self._annotated_source(exc, version)
        text = failure_text(exc, f"in {self.op_signature}", inputs, source)
        raise ExecutionError(ExceptionNode(exc, text, name=self.name, inputs=inputs, op_name=self.name,
                                           op_description=self.description, op_signature=self.op_signature,
                                           code_parameter=self.parameter)) from exc

    def _read_source(self) -> tuple[str, int] | None:
        located = definition_source(self.fn)
        if located is not None:
            self._original.source, self._original.first_line = located
        self._source_read = True
        return located

    def _annotated_source(self, exc: BaseException, version: _Version) -> str:
        if version is self._original and not self._source_read:
            self._read_source()
        if version.source is None:
            return ""
        n_lines = version.source.count("\n") + 1
        line = failing_line(exc, version.filename, version.first_line, n_lines)
        note = "" if line is not None else "  (raised before the body ran, e.g. by the call's arguments)\n"
        return f"{note}{annotate(version.source, line if line is not None else 1)}"

    # -- trainable code ---------------------------------------------------------------------------------

    def _version(self) -> _Version:
        """The compiled function for the code parameter's current value (compiled once per distinct value)."""
        if self.parameter is None:
            return self._original
        source = self.parameter._data
        active = self._active
        if source is active[0]:
            return active[1]
        version = self._compiled.get(source) if isinstance(source, str) else None
        if version is None:
            version = self._compile(source)
            if isinstance(source, str):
                if len(self._compiled) >= _MAX_VERSIONS:  # keep the original, forget the oldest new one
                    del self._compiled[next(k for k in self._compiled if self._compiled[k] is not self._original)]
                self._compiled[source] = version
        if isinstance(version, _Broken):
            raise CodeUpdateError(version.message)
        self._active = (source, version)
        return version

    def _compile(self, source: Any) -> _Version | _Broken:
        assert self.parameter is not None
        want = f"{self.name}{self.parameter.code_signature}"
        if not isinstance(source, str):
            return _Broken(f"the code parameter {self.parameter.name!r} must hold source text (str), "
                                   f"not {type(source).__name__}; set it to a full definition `def {want}: ...`")
        filename = f"<optotrace {self.__qualname__} v{next(_versions)}>"
        try:
            tree = ast.parse(source, filename)
            definitions = [s for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
                           and s.name == self.name]
            if not definitions:
                found = [s.name for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))]
                return _Broken(f"the new code must define a function named {self.name!r} with the "
                                       f"signature {want}; it defines {found or 'no function'}")
            original = self._original.source
            for definition in definitions:
                definition.decorator_list = []  # a copied @bundle line must not wrap the function again
                if original is not None:
                    keep_original_defaults(definition, original)
            flags = self.fn.__code__.co_flags & _FUTURE_FLAGS
            cells = self._closure_cells()
            if cells:
                tree, future = in_closure_scope(tree, self.name, list(cells))
                flags |= future
            code = compile(tree, filename, "exec", flags=flags, dont_inherit=True)
        except SyntaxError as exc:
            where = annotate(source, exc.lineno) if exc.lineno else source
            return _Broken(f"the new code of {self.name} has a syntax error at line {exc.lineno}: "
                                   f"{exc.msg}\n{where}")
        linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
        namespace = dict(self.fn.__globals__)
        namespace[DEFAULTS], namespace[KWDEFAULTS] = self.fn.__defaults__, self.fn.__kwdefaults__
        try:
            if cells:
                fn = defined_in_closure(code, namespace, cells)
            else:
                exec(code, namespace)
                fn = namespace[self.name]
        except Exception as exc:
            return _Broken(f"running the new code of {self.name} (its definitions) raised "
                                   f"{type(exc).__name__}: {exc}")
        if inspect.iscoroutinefunction(fn) != self.is_async:
            kind = "an async" if self.is_async else "a plain (not async)"
            return _Broken(f"the new code of {self.name} must stay {kind} function")
        got = f"{self.name}{inspect.signature(fn)}"
        if got != want:
            return _Broken(f"the new code of {self.name} changed its signature to {got}; it must keep {want}")
        return _Version(fn, filename, 1, source)

    def _closure_cells(self) -> dict[str, types.CellType]:
        """The cells new code may close over: the original's, plus `__class__` for a method of a known class."""
        cells = dict(self._cells)
        if self._owner is not None and "__class__" not in cells:
            cells["__class__"] = types.CellType(self._owner)
        return cells

    def __deepcopy__(self, memo: dict[int, Any]) -> BundledFunction:
        """A copy with its own code parameter (a deep copy of it); the function, its closure cells and the
        compiled versions are shared."""
        new = copy.copy(self)
        memo[id(self)] = new
        if self.parameter is not None:
            new.parameter = copy.deepcopy(self.parameter, memo)
            new._compiled = dict(self._compiled)
        return new

    def __repr__(self) -> str:
        return f"<bundled {'trainable ' if self.parameter is not None else ''}function {self.__qualname__}>"


_NOT_DELEGATED = frozenset({"__func__", "__self__", "__copy__", "__deepcopy__", "__getstate__", "__setstate__",
                            "__reduce__", "__reduce_ex__", "__getnewargs__", "__getnewargs_ex__"})


class BundleMethod:
    """A bundled function bound to an instance: `self` is passed as is, not recorded as a node input."""

    __slots__ = ("__func__", "__self__")

    def __init__(self, func: BundledFunction, instance: Any) -> None:
        self.__func__ = func
        self.__self__ = instance

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.__func__._invoke(self.__self__, args, kwargs)

    def __getattr__(self, name: str) -> Any:
        if name in _NOT_DELEGATED:  # copying and pickling must see the bound method, not the function
            raise AttributeError(name)
        return getattr(self.__func__, name)

    def __deepcopy__(self, memo: dict[int, Any]) -> BundleMethod:
        return BundleMethod(copy.deepcopy(self.__func__, memo), copy.deepcopy(self.__self__, memo))

    def __repr__(self) -> str:
        return f"<bound {self.__func__!r} of {self.__self__!r}>"



def bundle(fn: Callable[..., Any] | str | None = None, *, description: str | None = None, trainable: bool = False,
           catch_execution_error: bool = True, allow_external_dependencies: bool = False) -> Any:
    """Decorate a function so that its calls are traced; usable as `@bundle`, `@bundle()` or `@bundle(...)`.
    A string first argument is taken as the description."""
    if isinstance(fn, str):
        fn, description = None, fn

    def decorate(f: Callable[..., Any]) -> BundledFunction:
        return BundledFunction(f, description, trainable, catch_execution_error, allow_external_dependencies)

    return decorate(fn) if fn is not None else decorate
