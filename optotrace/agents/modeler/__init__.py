"""The optimization modeler: a traced LLM workflow with trainable prompts and a repair loop."""

from optotrace.agents.modeler.agent import ModelerAgent
from optotrace.agents.modeler.outcome import Outcome
from optotrace.agents.modeler.replies import SpecAnswer, extract_program, parse_spec_answer

__all__ = ["ModelerAgent", "Outcome", "SpecAnswer", "extract_program", "parse_spec_answer"]
