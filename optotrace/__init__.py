"""optotrace: optimize LLM-agent workflows by tracing ordinary Python as a graph.

`node()` and `@bundle` are the whole user API for a workflow, `optimize()` the one verb that improves it; heavy libraries (torch, litellm, llama-cpp, ray) load lazily.
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


def __getattr__(name: str) -> object:
    # `ot.optimize` without importing the optimizers (and the LLM client) on `import optotrace`
    if name == "optimize":
        from optotrace.optimizers import optimize

        return optimize
    raise AttributeError(f"module 'optotrace' has no attribute {name!r}")

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
    "optimize",
    "render",
    "stop_tracing",
    "subgraph",
    "to_networkx",
]
