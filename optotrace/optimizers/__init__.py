"""optotrace.optimizers: `optimize()`, the drivers beneath it, and the LLM optimizers they drive.

    result = optimize(program, trainset, valset=valset, metric=metric, budget=100)   # strategy="auto"

The layout, by job:
- the optimizers, one file each: OptoPrime, OPRO, TextGrad, InstructionInduction, CodeRewrite (base.py is their
  torch.optim-style base), BootstrapFewShot (fewshot.py); the contract they keep with the drivers: contract.py;
- proposal/: asking for one proposal, reading the reply, checking each value before it is used;
- train/: the run machinery every driver shares (the minibatch cycle, evaluation, selection, the run directory,
  progress, the result) and the step-by-step Trainer;
- search/: whole-run searches on the same cycle: the population (GEPA-style), propose-and-race, demos only;
- numeric/, bayes/, evolution/: torch optimizers, Bayesian optimization and multi-objective search for numbers.
Numeric (torch) optimizers are imported on their own, so this package never imports torch.
"""

from optotrace.optimizers.base import Optimizer, Proposal
from optotrace.optimizers.code_rewrite import CodeRewrite
from optotrace.optimizers.contract import (
    Candidate,
    CandidateOptimizer,
    DemoHarvester,
    Explorer,
    StepContext,
    StepResult,
    TrainableOptimizer,
)
from optotrace.optimizers.errors import OptimizerError, SuggestionRejected, TrainerError
from optotrace.optimizers.fewshot import BootstrapFewShot
from optotrace.optimizers.induction import InstructionInduction
from optotrace.optimizers.opro import OPRO
from optotrace.optimizers.optimize import optimize
from optotrace.optimizers.optoprime import OptoPrime
from optotrace.optimizers.proposal.parse import parse_suggestion
from optotrace.optimizers.proposal.policy import ProposalPolicy
from optotrace.optimizers.proposal.validate import validate_suggestion
from optotrace.optimizers.search.demos import DemoSearch
from optotrace.optimizers.search.population import GEPA
from optotrace.optimizers.search.propose_race import ProposeRace
from optotrace.optimizers.strategies import STRATEGIES
from optotrace.optimizers.textgrad import TextGrad
from optotrace.optimizers.train.evaluation import Evaluator, ExampleResult
from optotrace.optimizers.train.result import OptimizeResult
from optotrace.optimizers.train.trainer import Trainer

__all__ = [
    "GEPA",
    "OPRO",
    "STRATEGIES",
    "BootstrapFewShot",
    "Candidate",
    "CandidateOptimizer",
    "CodeRewrite",
    "DemoHarvester",
    "DemoSearch",
    "Evaluator",
    "Explorer",
    "InstructionInduction",
    "OptimizeResult",
    "Optimizer",
    "OptimizerError",
    "OptoPrime",
    "ExampleResult",
    "Proposal",
    "ProposalPolicy",
    "ProposeRace",
    "StepContext",
    "StepResult",
    "SuggestionRejected",
    "TextGrad",
    "TrainableOptimizer",
    "Trainer",
    "TrainerError",
    "optimize",
    "parse_suggestion",
    "validate_suggestion",
]
