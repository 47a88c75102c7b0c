"""optotrace.optimizers: LLM optimizers (OptoPrime, OPRO, TextGrad-style), few-shot demos, the GEPA-style
search, and the Trainer.

The contract every optimizer keeps with the Trainer and the search is in `contract.py`. Numeric (torch)
optimizers live in `optotrace.optimizers.numeric`, imported on their own, so this package never imports torch.
"""

from optotrace.optimizers.base import Optimizer, Proposal
from optotrace.optimizers.code_rewrite import CodeRewrite
from optotrace.optimizers.contract import (
    Candidate,
    CandidateOptimizer,
    Explorer,
    StepContext,
    StepResult,
    TrainableOptimizer,
)
from optotrace.optimizers.errors import OptimizerError, SuggestionRejected, TrainerError
from optotrace.optimizers.evaluation import Evaluator, Outcome
from optotrace.optimizers.fewshot import BootstrapFewShot, FewShotResult, bootstrap_fewshot
from optotrace.optimizers.gepa import GEPA, SearchResult, search
from optotrace.optimizers.induction import InstructionInduction
from optotrace.optimizers.opro import OPRO
from optotrace.optimizers.optoprime import OptoPrime
from optotrace.optimizers.parse import parse_suggestion
from optotrace.optimizers.propose_race import ProposeRace, RaceSearchResult
from optotrace.optimizers.textgrad import TextGrad
from optotrace.optimizers.trainer import Trainer, TrainResult
from optotrace.optimizers.validate import validate_suggestion

__all__ = [
    "GEPA",
    "InstructionInduction",
    "OPRO",
    "BootstrapFewShot",
    "Candidate",
    "CodeRewrite",
    "CandidateOptimizer",
    "Explorer",
    "Evaluator",
    "FewShotResult",
    "Optimizer",
    "OptimizerError",
    "OptoPrime",
    "Outcome",
    "Proposal",
    "ProposeRace",
    "RaceSearchResult",
    "SearchResult",
    "StepContext",
    "StepResult",
    "SuggestionRejected",
    "TextGrad",
    "TrainResult",
    "TrainableOptimizer",
    "Trainer",
    "TrainerError",
    "bootstrap_fewshot",
    "parse_suggestion",
    "search",
    "validate_suggestion",
]
