"""Bayesian optimization of numeric and categorical parameters on BoTorch (the `optotrace[bo]` extra)."""

from optotrace.optimizers.bayes.optimizer import BayesOpt, Point
from optotrace.optimizers.bayes.space import Dimension, Space

__all__ = ["BayesOpt", "Dimension", "Point", "Space"]
