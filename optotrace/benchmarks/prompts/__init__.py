"""Prompt templates of the benchmark layer (text files beside this module, read by the runtime's loader)."""

from __future__ import annotations

from optotrace.runtime import Templates

_TEMPLATES = Templates(__name__)


def load(name: str) -> str:
    return _TEMPLATES.text(name)
