"""The trace graph: `node()` and `@bundle` record ordinary Python as a graph; `backward()` hands every
trainable parameter upstream of an output the feedback and the subgraph linking it to that output.

Files: context (tracing switches), nodes (the node kinds), operators (traced operators), bundle (traced
functions and trainable code), graph (walks), propagators (backward), modules (Module, @model, save/load),
render (networkx, graphviz), names (unique names).
"""

from optotrace.trace.bundle import BundledFunction, BundleMethod, bundle
from optotrace.trace.context import is_tracing, stop_tracing
from optotrace.trace.demos import Demos, demos, format_demos
from optotrace.trace.errors import CodeUpdateError, ExternalDependencyError, ParameterFileError
from optotrace.trace.graph import Upstream, ancestors, subgraph, union_subgraph
from optotrace.trace.make_node import node
from optotrace.trace.modules import Module, model
from optotrace.trace.names import unique_names
from optotrace.trace.nodes import ROLES, ExceptionNode, ExecutionError, MessageNode, Node, ParameterNode
from optotrace.trace.params_io import load_parameters, save_parameters
from optotrace.trace.propagators import FeedbackItem, GraphPropagator, Propagator, SumPropagator
from optotrace.trace.render import render, to_dot, to_networkx

__all__ = [
    "BundleMethod",
    "BundledFunction",
    "Demos",
    "CodeUpdateError",
    "ExceptionNode",
    "ExecutionError",
    "ExternalDependencyError",
    "FeedbackItem",
    "GraphPropagator",
    "MessageNode",
    "Module",
    "Node",
    "ParameterFileError",
    "ParameterNode",
    "Propagator",
    "ROLES",
    "SumPropagator",
    "Upstream",
    "ancestors",
    "bundle",
    "demos",
    "format_demos",
    "is_tracing",
    "load_parameters",
    "model",
    "node",
    "render",
    "save_parameters",
    "stop_tracing",
    "subgraph",
    "to_dot",
    "to_networkx",
    "union_subgraph",
    "unique_names",
]
