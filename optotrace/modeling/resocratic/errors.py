"""Errors of the ReSocratic pipeline."""

from __future__ import annotations

from optotrace.modeling.errors import ModelingError


class ResocraticError(ModelingError):
    """A synthesis run cannot go on: a run directory from another configuration, a missing file, bad options."""
