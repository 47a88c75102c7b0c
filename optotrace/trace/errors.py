"""The errors trace/ raises; all are OptotraceError subclasses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from optotrace.errors import OptotraceError

if TYPE_CHECKING:
    from optotrace.trace.nodes import ExceptionNode


class ExecutionError(OptotraceError):
    """A traced call failed. `.exception_node` is the ExceptionNode recorded in the graph (backpropagate
    feedback from it like from any node); `.exception` is the original exception."""

    def __init__(self, exception_node: ExceptionNode) -> None:
        super().__init__(exception_node.data)
        self.exception_node = exception_node

    @property
    def exception(self) -> BaseException:
        return self.exception_node.exception


class CodeUpdateError(OptotraceError):
    """New source set on a code parameter cannot be used (syntax error, wrong name, changed signature)."""


class ExternalDependencyError(OptotraceError):
    """A bundled function read a node that was not passed to it, so feedback could not reach that node."""


class ParameterFileError(OptotraceError):
    """A parameter file does not match the parameters it is loaded into, or a value cannot be saved."""
