"""Published OptiBench accuracies, shown beside a run for reference.

Source: the results table in the ReSocratic repository README (github.com/yangzhch6/ReSocratic, README.md at
commit 06789c8ee5cf89a3e2a51b76483e7e59d351dd66, "Performance on E-OPT Benchmark"; E-OPT is OptiBench's
earlier name, the same 605 items). The paper is Yang et al., "OptiBench Meets ReSocratic", ICLR 2025
(arXiv:2407.09887). Only rows copied from that table are listed; percentages as published.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PaperRow:
    name: str
    linear_table: float
    linear_notable: float
    nonlinear_table: float
    nonlinear_notable: float
    overall: float
    code_pass: float

    def by_category(self) -> dict[str, float]:
        return {
            "linear-notable": self.linear_notable,
            "linear-table": self.linear_table,
            "nonlinear-notable": self.nonlinear_notable,
            "nonlinear-table": self.nonlinear_table,
            "all": self.overall,
        }


PAPER_ROWS: tuple[PaperRow, ...] = (
    PaperRow("GPT-4 (zero-shot, paper)", 62.5, 75.4, 32.0, 42.1, 62.8, 88.8),
    PaperRow("GPT-4 (few-shot, paper)", 71.3, 80.7, 34.0, 34.6, 65.5, 88.3),
    PaperRow("GPT-3.5-Turbo (zero-shot, paper)", 37.5, 68.1, 16.0, 19.5, 49.1, 85.0),
    PaperRow("GPT-3.5-Turbo (few-shot, paper)", 40.0, 75.4, 26.0, 28.6, 56.4, 93.2),
    PaperRow("Llama-3-8B-Instruct + ReSocratic-29K SFT (paper)", 32.5, 63.5, 44.0, 33.0, 51.1, 96.3),
)
