"""The errors trace/ raises; all are OptotraceError subclasses (ExecutionError, which carries an ExceptionNode,
lives with the nodes)."""

from __future__ import annotations

from optotrace.errors import OptotraceError


class CodeUpdateError(OptotraceError):
    """New source set on a code parameter cannot be used (syntax error, wrong name, changed signature)."""


class ExternalDependencyError(OptotraceError):
    """A bundled function read a node that was not passed to it, so feedback could not reach that node."""


class ParameterFileError(OptotraceError):
    """A parameter file does not match the parameters it is loaded into, or a value cannot be saved."""
