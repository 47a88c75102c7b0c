"""Ready agents built on trace: the optimization modeler (OptiBench), more to come."""

from optotrace.agents.modeler import ModelerAgent

__all__ = ["ModelerAgent"]
