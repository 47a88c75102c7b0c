"""Multi-objective search: NSGA-II on torch tensors, Pareto fronts, hypervolume, front reports."""

from optotrace.optimizers.evolution.hypervolume import hypervolume
from optotrace.optimizers.evolution.nsga2 import NSGA2
from optotrace.optimizers.evolution.optimizer import ParetoSearch
from optotrace.optimizers.evolution.pareto import (
           crowding_distance,
           environmental_selection,
           non_dominated_rank,
)
from optotrace.optimizers.evolution.report import write_front_report

__all__ = ["NSGA2", "ParetoSearch", "crowding_distance", "environmental_selection", "hypervolume",
           "non_dominated_rank", "write_front_report"]
