"""optotrace.optimizers: LLM optimizers (OptoPrime, OPRO, TextGrad-style) and the Trainer.

Numeric (torch) optimizers live in `optotrace.optimizers.numeric`, imported on their own, so this package
never imports torch.
"""

from optotrace.optimizers.base import Optimizer, Proposal
from optotrace.optimizers.errors import OptimizerError, SuggestionRejected, TrainerError
from optotrace.optimizers.opro import OPRO
from optotrace.optimizers.optoprime import OptoPrime
from optotrace.optimizers.parse import parse_suggestion
from optotrace.optimizers.textgrad import TextGrad
from optotrace.optimizers.trainer import Trainer
from optotrace.optimizers.validate import validate_suggestion

__all__ = [
    "OPRO",
    "Optimizer",
    "OptimizerError",
    "OptoPrime",
    "Proposal",
    "SuggestionRejected",
    "TextGrad",
    "Trainer",
    "TrainerError",
    "parse_suggestion",
    "validate_suggestion",
]
