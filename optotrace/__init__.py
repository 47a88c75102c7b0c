"""optotrace: optimize LLM-agent workflows by tracing ordinary Python as a graph.

`node()` and `@bundle` are the whole user API; heavy libraries (torch, litellm, llama-cpp, ray) load lazily.
"""

from optotrace.errors import OptotraceError
from optotrace.trace import (
    Demos,
    ExceptionNode,
    ExecutionError,
    MessageNode,
    Module,
    Node,
    ParameterNode,
    bundle,
    demos,
    format_demos,
    model,
    node,
    render,
    stop_tracing,
    subgraph,
    to_networkx,
)

__version__ = "0.1.0"

__all__ = [
    "Demos",
    "ExceptionNode",
    "ExecutionError",
    "MessageNode",
    "Module",
    "Node",
    "OptotraceError",
    "ParameterNode",
    "__version__",
    "bundle",
    "demos",
    "format_demos",
    "model",
    "node",
    "render",
    "stop_tracing",
    "subgraph",
    "to_networkx",
]
