"""NSGA-II's rules by hand: non-dominated sorting, crowding distance, survivor selection, hypervolume."""

from __future__ import annotations

import math
import random

import pytest
import torch

from optotrace.optimizers.evolution import (
    crowding_distance,
    environmental_selection,
    hypervolume,
    non_dominated_rank,
)
from optotrace.optimizers.evolution.hypervolume import hv_monte_carlo

F = torch.tensor([[1.0, 4.0], [2.0, 2.0], [4.0, 1.0], [3.0, 3.0], [5.0, 5.0], [2.0, 2.0], [4.0, 4.0]])


def test_non_dominated_sorting_by_hand() -> None:
    # front 0: (1,4) (2,2) (4,1) and the duplicate (2,2); (3,3) is dominated by (2,2) only; (4,4) by (3,3) too;
    # (5,5) by everything above
    assert non_dominated_rank(F).tolist() == [0, 0, 0, 1, 3, 0, 2]


def test_crowding_distance_by_hand() -> None:
    d = crowding_distance(F, non_dominated_rank(F)).tolist()
    # front 0 sorted by f1: (1,4) (2,2)#1 (2,2)#5 (4,1); range 3 on both objectives.
    # point 1: f1 neighbours 1 and 2 -> 1/3; f2 neighbours (4,1) and #5 -> (2-1)/3. Total 2/3.
    # point 5: f1 neighbours 2 and 4 -> 2/3; f2 neighbours #1 and (1,4) -> (4-2)/3. Total 4/3.
    assert d[0] == math.inf and d[2] == math.inf
    assert d[1] == pytest.approx(2 / 3) and d[5] == pytest.approx(4 / 3)
    assert d[3] == d[4] == d[6] == math.inf  # singleton fronts: their own extremes


def test_survivors_are_taken_by_rank_then_crowding() -> None:
    keep, rank, _ = environmental_selection(F, 3)
    assert set(keep.tolist()) == {0, 2, 5}  # front 0's two ends, then its least crowded inner point
    assert rank.tolist() == [0, 0, 0]


def test_sorting_agrees_with_a_brute_force_definition() -> None:
    rng = random.Random(1)
    pts = torch.tensor([[rng.randint(0, 6) for _ in range(3)] for _ in range(60)], dtype=torch.float64)
    rank = non_dominated_rank(pts).tolist()
    remaining, expected, k = set(range(60)), [0] * 60, 0
    while remaining:
        front = {i for i in remaining if not any(
            all(pts[j] <= pts[i]) and any(pts[j] < pts[i]) for j in remaining)}
        for i in front:
            expected[i] = k
        remaining -= front
        k += 1
    assert rank == expected


def test_hypervolume_by_hand() -> None:
    ref = [4.0, 4.0]
    # staircase (1,3) (2,2) (3,1): 1*1 + 2*1 + 3*1 = 6; a dominated point and one beyond the reference add nothing
    assert hypervolume(torch.tensor([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [3.0, 3.0], [5.0, 0.0]]), ref) == 6.0
    assert hypervolume(torch.tensor([[5.0, 5.0]]), ref) == 0.0
    # 3-D, reference (2,2,2): boxes [0,2]x[1,2]x[0,2] and [1,2]x[0,2]x[0,2] (4 each) share [1,2]x[1,2]x[0,2] (2)
    three = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    assert hypervolume(three, [2.0, 2.0, 2.0]) == pytest.approx(6.0)
    assert hypervolume(torch.tensor([[0.5, 0.5, 0.5]]), [1.0, 1.0, 1.0]) == pytest.approx(0.125)
    four = torch.tensor([[0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
    assert hv_monte_carlo(four, torch.tensor([2.0, 2.0, 2.0, 2.0])) == pytest.approx(12.0, rel=0.02)
    with pytest.raises(ValueError, match="objectives"):
        hypervolume(torch.zeros(3, 2), [1.0, 1.0, 1.0])
