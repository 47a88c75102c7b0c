"""Argument checks shared by the numeric optimizers; each failure names the argument and the fix."""

from __future__ import annotations

import math
from collections.abc import Sequence

from optotrace.optimizers.numeric.errors import NumericOptimizerError


def check_nonneg(name: str, value: float) -> float:
    """A finite float >= 0."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
        raise NumericOptimizerError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def check_positive(name: str, value: float) -> float:
    """A finite float > 0."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
        raise NumericOptimizerError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def check_unit(name: str, value: float, *, closed_right: bool = False) -> float:
    """A float in [0, 1) (or [0, 1] when closed_right)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and value >= 0.0 and (value <= 1.0 if closed_right else value < 1.0)
    if not ok:
        bound = "[0, 1]" if closed_right else "[0, 1)"
        raise NumericOptimizerError(f"{name} must be a number in {bound}, got {value!r}")
    return float(value)


def check_betas(value: Sequence[float], name: str = "betas") -> tuple[float, float]:
    """A pair of decay rates, each in [0, 1)."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise NumericOptimizerError(f"{name} must be a pair (beta1, beta2), got {value!r}")
    return check_unit(f"{name}[0]", value[0]), check_unit(f"{name}[1]", value[1])


def check_int(name: str, value: int, minimum: int = 1) -> int:
    """An int >= minimum."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise NumericOptimizerError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def check_foreach(value: bool | None, name: str = "foreach") -> bool | None:
    """None (pick automatically), True or False."""
    if value is not None and not isinstance(value, bool):
        raise NumericOptimizerError(f"{name} must be None, True or False, got {value!r}")
    return value


def check_fused(value: bool | None) -> bool | None:
    """None (compiled kernel when it pays off, see `_fused`), True or False."""
    return check_foreach(value, "fused")
