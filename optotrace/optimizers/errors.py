"""Errors of the optimizers package (all OptotraceError)."""

from __future__ import annotations

from optotrace.errors import OptotraceError


class OptimizerError(OptotraceError):
    """Something is wrong with an optimizer's set-up (no parameters, bad options); the message says what."""


class SuggestionRejected(OptotraceError):
    """A suggested value failed validation; `.reason` is shown to the model in the next step."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TrainerError(OptotraceError):
    """The Trainer cannot start or resume (bad run directory, mismatched parameters); the message says what."""
